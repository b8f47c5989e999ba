"""Distribution rounds: vehicle routing for farm pick-ups and distribution-point deliveries.

Public API: the problem and result dataclasses (`model`), `solve_rounds`,
`replan_without_vehicle`, the travel matrices (`distances`) and the benchmark contract
`run_vrplib` (Solomon VRPTW and VRPLIB CVRP files under the best-known-solution conventions).
"""

from baskets.optimizer.routing.contract import run_vrplib, solve_instance
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
    "extract_result",
    "great_circle_matrix",
    "problem_from_data",
    "read_instance",
    "read_problem",
    "replan_without_vehicle",
    "result_to_data",
    "run_vrplib",
    "solve_instance",
    "solve_model",
    "solve_rounds",
]
