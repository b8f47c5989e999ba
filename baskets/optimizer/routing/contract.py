"""The benchmark contract: solve a Solomon VRPTW or VRPLIB CVRP file under the BKS conventions.

Two stages share one time budget and one integer distance matrix:

1. PyVRP's iterated local search builds and improves routes for most of the budget (it is
   the strongest open solver on these pure benchmark models, and the issue allows seeding
   OR-Tools with another solver's routes);
2. OR-Tools reads those routes (``ReadAssignmentFromRoutes``) and continues with guided local
   search for the rest (``SolveFromAssignmentWithParameters``). OR-Tools never returns worse
   than the routes it was given, so stage 2 can only keep or improve the cost.

If PyVRP ends without a feasible solution, OR-Tools builds one itself with insertion-based
first-solution strategies, so there is always an answer when the instance admits one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp
import pyvrp.stop
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE

from baskets.optimizer.routing.vrplib import VrpInstance, read_instance
from baskets.scenario import ScenarioError

__all__ = [
    "InstanceSolution",
    "evaluate_routes",
    "pyvrp_routes",
    "run_vrplib",
    "solve_instance",
    "to_pyvrp_data",
]

# Share of the budget given to PyVRP; the rest goes to OR-Tools' guided local search.
_PYVRP_SHARE = 0.75
# Constructions tried when OR-Tools starts alone, each with the share of the time left it may
# use (a construction cut by the clock answers nothing): savings is fast and good without
# windows; with windows, local cheapest insertion answers fast and parallel cheapest
# insertion is better but slow at 1,000 clients; path cheapest arc alone fails on tight
# windows and is the last fallback.
_FIRST_SOLUTION_FALLBACKS = {
    "cvrp": (
        (routing_enums_pb2.FirstSolutionStrategy.SAVINGS, 0.5),
        (routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION, 0.5),
        (routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC, 1.0),
    ),
    "vrptw": (
        (routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION, 0.3),
        (routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION, 0.5),
        (routing_enums_pb2.FirstSolutionStrategy.SAVINGS, 0.5),
        (routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC, 1.0),
    ),
}


@dataclass(frozen=True)
class InstanceSolution:
    """Routes found for a `VrpInstance`.

    Attributes
    ----------
    routes
        Node indices per non-empty route (depot excluded).
    cost
        Total distance in integer solver units.
    time_to_first_solution
        Seconds from the start of the solve to the first feasible solution.
    runtime
        Seconds used in all.
    pyvrp_cost
        Cost at the end of the PyVRP stage (``None`` if it found nothing feasible).
    """

    routes: tuple[tuple[int, ...], ...]
    cost: int
    time_to_first_solution: float
    runtime: float
    pyvrp_cost: int | None


def to_pyvrp_data(
    instance: VrpInstance, matrix: npt.NDArray[np.int64] | None = None
) -> pyvrp.ProblemData:
    """Translate an instance into PyVRP's model (also used by the benchmark's reference run)."""
    dist = instance.distance_matrix() if matrix is None else matrix
    n = len(instance.x)
    locations = [pyvrp.Location(x, y) for x, y in zip(instance.x, instance.y, strict=True)]
    clients = [
        pyvrp.Client(
            location=i,
            delivery=[instance.demand[i]],
            service_duration=instance.service[i],
            tw_early=instance.ready[i],
            tw_late=instance.due[i],
        )
        for i in range(1, n)
    ]
    depot = pyvrp.Depot(0, tw_early=instance.ready[0], tw_late=instance.due[0])
    # CVRP has no fleet limit: one vehicle per client can never be binding.
    fleet = instance.num_vehicles if instance.num_vehicles is not None else n - 1
    vehicle = pyvrp.VehicleType(
        fleet, [instance.capacity], tw_early=instance.ready[0], tw_late=instance.due[0]
    )
    matrices: list[Any] = [dist]  # PyVRP's stubs want a 2-D int array; numpy's type is wider
    return pyvrp.ProblemData(locations, clients, [depot], [vehicle], matrices, matrices)


def pyvrp_routes(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> list[list[int]]:
    """Node indices (depot 0 excluded) of each route of a PyVRP solution."""
    # A client activity's idx counts clients from 0; the node is the client's location.
    clients = data.clients()
    return [
        [clients[act.idx].location for act in route.schedule() if act.is_client()]
        for route in solution.routes()
    ]


def evaluate_routes(instance: VrpInstance, routes: list[list[int]]) -> int:
    """Check `routes` against the instance and return their cost in integer units.

    Raises
    ------
    ValueError
        If a client is missed or repeated, a vehicle is over capacity, a window is missed,
        or the fleet is exceeded.
    """
    dist = instance.distance_matrix()
    seen = sorted(node for route in routes for node in route)
    if seen != list(range(1, len(instance.x))):
        raise ValueError("every client must be visited exactly once")
    if instance.num_vehicles is not None and len(routes) > instance.num_vehicles:
        raise ValueError(f"{len(routes)} routes for {instance.num_vehicles} vehicles")
    for route in routes:
        if sum(instance.demand[node] for node in route) > instance.capacity:
            raise ValueError(f"route {route} is over capacity")
        if instance.kind == "vrptw":
            clock, here = instance.ready[0], 0
            for node in [*route, 0]:
                clock = max(
                    clock + instance.service[here] + int(dist[here, node]), instance.ready[node]
                )
                if clock > instance.due[node]:
                    raise ValueError(f"route {route} reaches {node} after its window")
                here = node
    return _route_cost(routes, dist)


def _route_cost(routes: list[list[int]], dist: npt.NDArray[np.int64]) -> int:
    total = 0
    for route in routes:
        path = [0, *route, 0]
        total += int(sum(dist[a, b] for a, b in zip(path, path[1:], strict=False)))
    return total


def _pyvrp_stage(
    instance: VrpInstance,
    dist: npt.NDArray[np.int64],
    budget: float,
    seed: int,
    started: float,
    iterations: int | None,
) -> tuple[list[list[int]] | None, float | None]:
    """Run PyVRP; return its best feasible routes and when it first held a feasible solution."""
    data = to_pyvrp_data(instance, dist)
    # PyVRP's statistics clock starts inside solve(): count the set-up before it as well.
    elapsed = time.perf_counter() - started
    stop: pyvrp.stop.StoppingCriterion = pyvrp.stop.MaxRuntime(budget)
    if iterations is not None:
        stop = pyvrp.stop.MultipleCriteria([stop, pyvrp.stop.MaxIterations(iterations)])
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=True)
    first: float | None = None
    for runtime, datum in zip(result.stats.runtimes, result.stats.data, strict=True):
        elapsed += runtime
        if datum.best_feas:
            first = elapsed
            break
    if not result.best.is_feasible():
        return None, None
    return pyvrp_routes(data, result.best), first


def _ortools_stage(
    instance: VrpInstance,
    dist: npt.NDArray[np.int64],
    start_routes: list[list[int]] | None,
    budget: float,
    solutions: int | None,
    started: float,
) -> tuple[list[list[int]] | None, float | None]:
    """Improve `start_routes` (or build routes) with OR-Tools' guided local search.

    Returns the routes and when (seconds after `started`) OR-Tools held its first solution.
    """
    n = len(instance.x)
    if instance.num_vehicles is not None:
        fleet = instance.num_vehicles
    else:
        # Unlimited fleet: a few spare vehicles beyond the start, or a safe bound without one.
        lower = -(-sum(instance.demand) // instance.capacity)
        fleet = len(start_routes) + 3 if start_routes else min(n - 1, 2 * lower + 5)
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    # Matrices registered in C++ avoid one Python call per arc evaluation.
    arc = routing.RegisterTransitMatrix(dist.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    demand = routing.RegisterUnaryTransitVector(list(instance.demand))
    routing.AddDimensionWithVehicleCapacity(demand, 0, [instance.capacity] * fleet, True, "load")
    if instance.kind == "vrptw":
        service = np.asarray(instance.service, dtype=np.int64)
        travel = routing.RegisterTransitMatrix((dist + service[:, None]).tolist())
        horizon = int(instance.due[0])
        routing.AddDimension(travel, horizon, horizon, False, "time")
        time_dim = routing.GetDimensionOrDie("time")
        for node in range(1, n):
            time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
                instance.ready[node], instance.due[node]
            )
        for v in range(fleet):
            time_dim.CumulVar(routing.Start(v)).SetRange(instance.ready[0], instance.due[0])
            time_dim.CumulVar(routing.End(v)).SetRange(instance.ready[0], instance.due[0])
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(budget * 1000)))
    if solutions is not None:
        params.solution_limit = solutions
    # A cheap start is vital here: the default full propagation is slow at 1,000 nodes.
    params.use_full_propagation = BOOL_FALSE
    first: list[float] = []
    routing.AddAtSolutionCallback(
        lambda: first.append(time.perf_counter() - started) if not first else None
    )
    routing.CloseModelWithParameters(params)
    if start_routes:
        # ReadAssignmentFromRoutes speaks routing indices, not node numbers.
        padded = [[manager.NodeToIndex(node) for node in r] for r in start_routes]
        padded += [[] for _ in range(fleet - len(start_routes))]
        initial = routing.ReadAssignmentFromRoutes(padded, True)
        if initial is not None:
            solution = routing.SolveFromAssignmentWithParameters(initial, params)
            if solution is not None:
                return _extract_nodes(manager, routing, solution, fleet), first[0]
    deadline = time.perf_counter() + budget
    for strategy, share in _FIRST_SOLUTION_FALLBACKS[instance.kind]:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        build = pywrapcp.DefaultRoutingSearchParameters()
        build.CopyFrom(params)
        build.first_solution_strategy = strategy
        build.time_limit.FromMilliseconds(max(1, int(left * share * 1000)))
        build.solution_limit = 1
        solution = routing.SolveWithParameters(build)
        if solution is None:
            continue
        routes = _extract_nodes(manager, routing, solution, fleet)
        left = deadline - time.perf_counter()
        if left > 0.01 and solutions != 1:
            # Guided local search from the construction, for the time left.
            params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
            padded = [[manager.NodeToIndex(node) for node in r] for r in routes]
            padded += [[] for _ in range(fleet - len(routes))]
            start = routing.ReadAssignmentFromRoutes(padded, True)
            better = (
                None if start is None else routing.SolveFromAssignmentWithParameters(start, params)
            )
            if better is not None:
                routes = _extract_nodes(manager, routing, better, fleet)
        return routes, first[0]
    return None, None


def _extract_nodes(
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    solution: pywrapcp.Assignment,
    fleet: int,
) -> list[list[int]]:
    routes: list[list[int]] = []
    for v in range(fleet):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route: list[int] = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def solve_instance(
    instance: VrpInstance,
    *,
    time_limit: float,
    seed: int,
    iterations: int | None = None,
    pyvrp_share: float = _PYVRP_SHARE,
) -> InstanceSolution:
    """Solve a benchmark instance within `time_limit` seconds.

    Parameters
    ----------
    instance
        The instance (see `baskets.optimizer.routing.vrplib`).
    time_limit
        Wall-clock budget in seconds for both stages.
    seed
        Seed of PyVRP's random number generator (OR-Tools' search is itself deterministic).
    iterations
        Optional work limit: PyVRP iterations, and one OR-Tools solution per 100 of them.
        When the time limit is not reached first, the answer is then
        identical from run to run; with a time limit alone it depends on the machine's speed.
    pyvrp_share
        Share of the budget for the PyVRP stage; 0 runs OR-Tools alone (from its own
        insertion-based first solution), which the benchmark reports for comparison.

    Returns
    -------
    InstanceSolution
        The best routes found.

    Raises
    ------
    ScenarioError
        If no feasible solution was found within the limit.
    """
    if time_limit <= 0:
        raise ScenarioError("time limit must be positive")
    started = time.perf_counter()
    dist = instance.distance_matrix()
    routes: list[list[int]] | None = None
    first: float | None = None
    if pyvrp_share > 0:
        routes, first = _pyvrp_stage(
            instance, dist, pyvrp_share * time_limit, seed, started, iterations
        )
    pyvrp_cost = _route_cost(routes, dist) if routes is not None else None
    setup_and_pyvrp = time.perf_counter() - started
    remaining = max(0.05, time_limit - setup_and_pyvrp)
    # One OR-Tools solution costs about as much as 100 PyVRP iterations on these sizes.
    solutions = None if iterations is None else max(1, iterations // 100)
    improved, ortools_first = _ortools_stage(instance, dist, routes, remaining, solutions, started)
    if improved is not None and (pyvrp_cost is None or _route_cost(improved, dist) <= pyvrp_cost):
        if routes is None:
            first = ortools_first
        routes = improved
    if routes is None or first is None:
        raise ScenarioError(f"{instance.name}: no feasible solution within {time_limit} s")
    return InstanceSolution(
        routes=tuple(tuple(r) for r in routes),
        cost=_route_cost(routes, dist),
        time_to_first_solution=first,
        runtime=time.perf_counter() - started,
        pyvrp_cost=pyvrp_cost,
    )


def run_vrplib(
    path: Path, *, time_limit: float, seed: int, iterations: int | None = None
) -> dict[str, Any]:
    """Solve a Solomon VRPTW or VRPLIB CVRP file and answer in the BKS conventions.

    Parameters
    ----------
    path
        The instance file.
    time_limit
        Wall-clock budget in seconds.
    seed
        Random seed.
    iterations
        Optional work limit for reproducible answers (see `solve_instance`).

    Returns
    -------
    dict
        ``{"cost": total distance in file units, "routes": [[client numbers as in the BKS
        files]], "vehicles": number of routes, "time_to_first_solution": seconds}``.
        Solomon client numbers are the file's; VRPLIB clients are numbered from 1 in file
        order with the depot as 0, as in CVRPLIB ``.sol`` files.

    Raises
    ------
    ScenarioError
        For a file that cannot be read or solved.
    """
    instance = read_instance(path)
    solved = solve_instance(instance, time_limit=time_limit, seed=seed, iterations=iterations)
    cost: float | int = solved.cost
    if instance.scale != 1:
        cost = round(solved.cost / instance.scale, 1)
    return {
        "cost": cost,
        "routes": [[instance.numbers[node] for node in route] for route in solved.routes],
        "vehicles": len(solved.routes),
        "time_to_first_solution": round(solved.time_to_first_solution, 3),
    }
