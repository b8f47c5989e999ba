"""Pure matching solvers: dataclasses in, dataclasses out."""

from baskets.matching.drivers import (
    DriverProblem,
    DriverResult,
    Replacement,
    Round,
    RoundAssignment,
    UnassignedRound,
    Volunteer,
    assign_drivers,
    propose_replacements,
    resolve_after_dropout,
)
from baskets.matching.projects import (
    Assignment,
    FixedAssignment,
    MatchingProblem,
    MatchingResult,
    Need,
    Project,
    Provider,
    Uncovered,
    match_projects,
)
from baskets.matching.reasons import Reason
from baskets.matching.scenario import parse_problem, result_to_json, run_scenario

__all__ = [
    "Assignment",
    "DriverProblem",
    "DriverResult",
    "FixedAssignment",
    "MatchingProblem",
    "MatchingResult",
    "Need",
    "Project",
    "Provider",
    "Reason",
    "Replacement",
    "Round",
    "RoundAssignment",
    "Uncovered",
    "UnassignedRound",
    "Volunteer",
    "assign_drivers",
    "match_projects",
    "parse_problem",
    "propose_replacements",
    "resolve_after_dropout",
    "result_to_json",
    "run_scenario",
]
