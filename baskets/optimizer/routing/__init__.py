"""Distribution rounds: vehicle routing for farm pick-ups and distribution-point deliveries.

Public API: the problem and result dataclasses (`model`), `solve_rounds`,
`replan_without_vehicle`, the travel matrices (`distances`) and the independent plan check
(`check`). The benchmark contract on Solomon VRPTW and VRPLIB CVRP files
(`contract.run_vrplib`) needs PyVRP, an optional extra (``pip install 'baskets[bench]'``),
and is imported from its module.
"""

from baskets.optimizer.routing.check import PlanCheck, check_plan, result_visits
from baskets.optimizer.routing.distances import (
    MatrixCache,
    OsrmError,
    OsrmTableClient,
    TravelMatrix,
    great_circle_matrix,
)
from baskets.optimizer.routing.jsonio import problem_from_data, read_problem, result_to_data
from baskets.optimizer.routing.model import (
    DEFAULT_SPEEDS_KMH,
    Break,
    Hub,
    Location,
    PlannedBreak,
    PlannedStop,
    RoundsProblem,
    RoundsResult,
    Route,
    ServiceTime,
    Stop,
    StopKind,
    TimeWindow,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleKind,
    VisitKind,
)
from baskets.optimizer.routing.solve import (
    BuiltModel,
    build_model,
    extract_result,
    replan_without_vehicle,
    solve_model,
    solve_rounds,
)
from baskets.optimizer.routing.vrplib import VrpInstance, read_instance

__all__ = [
    "Break",
    "BuiltModel",
    "DEFAULT_SPEEDS_KMH",
    "Hub",
    "Location",
    "MatrixCache",
    "OsrmError",
    "OsrmTableClient",
    "PlanCheck",
    "PlannedBreak",
    "PlannedStop",
    "RoundsProblem",
    "RoundsResult",
    "Route",
    "ServiceTime",
    "Stop",
    "StopKind",
    "TimeWindow",
    "TravelMatrix",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "VehicleKind",
    "VisitKind",
    "VrpInstance",
    "build_model",
    "check_plan",
    "extract_result",
    "great_circle_matrix",
    "problem_from_data",
    "read_instance",
    "read_problem",
    "replan_without_vehicle",
    "result_to_data",
    "result_visits",
    "solve_model",
    "solve_rounds",
]
