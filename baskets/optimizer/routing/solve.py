"""Plan distribution rounds: VROOM builds, OR-Tools polishes the product's full model.

The OR-Tools model carries the whole product problem: pick-up before delivery in the same
vehicle, hub drops and loads, refrigerated produce only in refrigerated vehicles,
capacities, time windows, shifts, maximum durations, drivers' breaks, and optional stops
with drop penalties.

Objective, in metres (1 km = 1000): serve every stop first (a dropped job costs more than
any plan), then the sum over used vehicles of their fixed cost (`Vehicle.fixed_cost`, in km)
plus kilometres driven plus `_DURATION_COST` per second of round (driving, service, breaks
and waiting), so that fewer, fuller and shorter rounds win.

`solve_rounds` runs two stages within one time budget: VROOM (`vroom_start`) builds a plan
quickly and with few vehicles; OR-Tools' guided local search starts from it and polishes it
on a proxy of the model (same constraints; each arc costs its metres and seconds instead of
the rounds' spans, which makes each move an order of magnitude cheaper to evaluate); the
polished plan and VROOM's are then read into the full model, which times the visits (leaving
late rather than waiting) and keeps the cheaper. If VROOM is missing, fails or leaves stops
out, OR-Tools' own constructions and local search take over; a stop still unserved at the
end is reported "fleet full" only when it fits in no route (`insertion`), and the plan takes
it otherwise.

Integer units inside the model: seconds, grams and metres; converted once, here.

Determinism: OR-Tools' routing search has no random component and VROOM is given the seed's
worth of nothing either (it is deterministic for a given thread count). A run bounded by
``solution_limit`` (before the clock) repeats exactly; bounded by the time limit alone, how
far the search gets depends on the machine's load, so the answer may differ from run to run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from baskets.optimizer.routing.distances import TravelMatrix, great_circle_matrix
from baskets.optimizer.routing.insertion import fitting_routes, insert_jobs
from baskets.optimizer.routing.model import (
    Location,
    PlannedBreak,
    PlannedStop,
    RoundsProblem,
    RoundsResult,
    Route,
    Stop,
    StopKind,
    TimeWindow,
    Unserved,
    UnservedReason,
    Vehicle,
    VehicleKind,
    VisitKind,
)
from baskets.optimizer.routing.objective import DROP_PENALTY, DURATION_COST
from baskets.optimizer.routing.vroom_start import vroom_routes

__all__ = [
    "DROP_PENALTY",
    "DURATION_COST",
    "BuiltModel",
    "build_model",
    "extract_result",
    "node_routes",
    "replan_without_vehicle",
    "solve_model",
    "solve_rounds",
]

TravelSource = Callable[[Sequence[Location]], TravelMatrix]

_log = logging.getLogger(__name__)

_KEEP_BONUS = 2  # re-planning: dropping a kept stop costs this many times more
# Share of the budget left after building the model that VROOM may use; it stops sooner
# when its search converges, and OR-Tools polishes for the rest of the budget.
_VROOM_SHARE = 0.8
# Seconds kept back from the search for re-insertion and extraction.
_RESERVE = 0.05
# Least seconds a model may take to read a whole plan back (fast unless it is large).
_READ_LIMIT = 10.0
# Seconds for reading the searched plan into the full model, which also times its visits
# (leaving late rather than waiting): reading takes all the time it is given when rounds
# have breaks, so it gets a share of the budget between these bounds.
_JUDGING = (0.2, 3.0, 0.1)  # least, most, share of the budget
# Construction heuristics with the share of the time left each may use. Local cheapest
# insertion is fast and always answers early; parallel cheapest insertion is slower on
# hundreds of pick-up/delivery pairs but usually needs fewer vehicles; path cheapest arc alone
# fails on tight windows and is only a fallback.
_IMPROVE_START = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
_FALLBACK_STRATEGY = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
_FIRST_SOLUTION_STRATEGIES = (
    (routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION, 0.3),
    (routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION, 0.6),
    (_FALLBACK_STRATEGY, 0.5),
)
_MESSAGES: dict[UnservedReason, tuple[str, str]] = {
    UnservedReason.WINDOW_UNREACHABLE: (
        "Aucun véhicule ne peut arriver dans la plage horaire (trop tôt, trop loin ou hors "
        "des horaires des chauffeurs).",
        "No vehicle can arrive within the time window (too early, too far or outside the "
        "drivers' shifts).",
    ),
    UnservedReason.NO_REFRIGERATED_VEHICLE: (
        "Produits frais : aucun véhicule réfrigéré n'est disponible.",
        "Perishable produce: no refrigerated vehicle is available.",
    ),
    UnservedReason.CAPACITY: (
        "La quantité dépasse la capacité de tous les véhicules possibles.",
        "The quantity exceeds the capacity of every suitable vehicle.",
    ),
    UnservedReason.FLEET_FULL: (
        "Plus de place dans les tournées : capacité ou temps des véhicules épuisés.",
        "No room left in the rounds: the vehicles' capacity or time is used up.",
    ),
}


@dataclass(frozen=True)
class _Visit:
    kind: VisitKind
    stop_id: str  # the stop's id, or the hub's id for hub visits
    for_stop: str | None
    location: Location
    window: TimeWindow
    delta_kg: float  # load change at the visit
    service_min: float
    job: int


@dataclass(frozen=True)
class _Job:
    """Visits served together or not at all: (first, second) with first before second."""

    stop_ids: tuple[str, ...]
    visits: tuple[int, int]  # indices into the visit list
    refrigerated: bool
    kg: float


@dataclass
class BuiltModel:
    """An OR-Tools model of a `RoundsProblem`, with what is needed to read a solution back.

    Nodes ``0 .. 2V-1`` are the vehicles' starts and ends; visit ``k`` is node ``2V + k``.
    Per-node lists (``service_s``, ``earliest``, ``latest``, ``grams``) give the model's
    integer data: a start or end node carries its vehicle's shift as its window.
    """

    problem: RoundsProblem
    vehicles: tuple[Vehicle, ...]
    visits: tuple[_Visit, ...]
    jobs: tuple[_Job, ...]
    excluded: dict[int, UnservedReason]
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    metres: list[list[int]]
    seconds: list[list[list[int]]]  # per vehicle, service of the origin included
    offset: int  # seconds subtracted from every time so that the model starts at 0
    hub_fixed_s: int  # fixed service paid when arriving at the hub from elsewhere
    drive: list[npt.NDArray[np.int64]]  # per vehicle: driving seconds alone (shared by speed)
    service_s: list[int]
    earliest: list[int]
    latest: list[int]
    grams: list[int]
    capacity_g: list[int]
    max_span_s: list[int]
    fixed_cost: list[int]
    breaks: list[list[tuple[str, int, int, int]]]  # per vehicle: (id, start min, start max, s)
    break_vars: list[list[pywrapcp.IntervalVar]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    first_solution_at: list[float] = field(default_factory=list)
    complete_at: list[float] = field(default_factory=list)
    # Reasons found after the search (re-insertion failed), overriding "fleet full".
    reasons: dict[int, UnservedReason] = field(default_factory=dict)

    @property
    def base(self) -> int:
        """Node number of the first visit."""
        return 2 * len(self.vehicles)

    def note_solution(self, cost: int) -> None:
        """Record when the first plan, and the first plan leaving no servable job out, came."""
        now = time.perf_counter() - self.started
        if not self.first_solution_at:
            self.first_solution_at.append(now)
        if cost < DROP_PENALTY and not self.complete_at:
            self.complete_at.append(now)


def _sec(minutes: float) -> int:
    return round(minutes * 60)


def _visits_and_jobs(problem: RoundsProblem) -> tuple[list[_Visit], list[_Job]]:
    """Split the stops into jobs: pick-up -> delivery, pick-up -> hub, hub -> delivery."""
    hub = problem.hub
    service = problem.service
    visits: list[_Visit] = []
    jobs: list[_Job] = []
    delivery_of = {s.source: s for s in problem.stops if s.source is not None}

    def visit(kind: VisitKind, stop: Stop, job: int, *, at_hub: bool) -> int:
        if at_hub:
            assert hub is not None  # the problem's validation guarantees it
            window = hub.drop_window if kind is VisitKind.HUB_DROP else hub.load_window
            sign = -1.0 if kind is VisitKind.HUB_DROP else 1.0
            visits.append(
                _Visit(
                    kind,
                    hub.id,
                    stop.id,
                    hub.location,
                    window,
                    sign * stop.kg,
                    # The fixed part is paid once per call at the hub (see build_model).
                    service.per_kg_min * stop.kg,
                    job,
                )
            )
        else:
            sign = 1.0 if stop.kind is StopKind.PICKUP else -1.0
            visits.append(
                _Visit(
                    kind,
                    stop.id,
                    None,
                    stop.location,
                    stop.window,
                    sign * stop.kg,
                    service.minutes(stop.kg),
                    job,
                )
            )
        return len(visits) - 1

    for stop in problem.stops:
        job = len(jobs)
        if stop.kind is StopKind.PICKUP:
            delivery = delivery_of.get(stop.id)
            if delivery is not None:
                first = visit(VisitKind.PICKUP, stop, job, at_hub=False)
                second = visit(VisitKind.DELIVERY, delivery, job, at_hub=False)
                jobs.append(
                    _Job(
                        (stop.id, delivery.id),
                        (first, second),
                        stop.refrigerated or delivery.refrigerated,
                        max(stop.kg, delivery.kg),
                    )
                )
            else:
                first = visit(VisitKind.PICKUP, stop, job, at_hub=False)
                second = visit(VisitKind.HUB_DROP, stop, job, at_hub=True)
                jobs.append(_Job((stop.id,), (first, second), stop.refrigerated, stop.kg))
        elif stop.source is None:
            first = visit(VisitKind.HUB_LOAD, stop, job, at_hub=True)
            second = visit(VisitKind.DELIVERY, stop, job, at_hub=False)
            jobs.append(_Job((stop.id,), (first, second), stop.refrigerated, stop.kg))
    return visits, jobs


def _job_reason(
    job: _Job,
    visits: Sequence[_Visit],
    vehicles: Sequence[Vehicle],
    vehicle_nodes: Sequence[tuple[int, int]],
    seconds: list[list[list[int]]],
    offset: int,
) -> UnservedReason | None:
    """Why no vehicle could serve `job` even alone, or None if one could."""
    if not vehicles:
        return UnservedReason.FLEET_FULL
    suitable = [v for v, veh in enumerate(vehicles) if veh.refrigerated or not job.refrigerated]
    if not suitable:
        return UnservedReason.NO_REFRIGERATED_VEHICLE
    suitable = [v for v in suitable if vehicles[v].capacity_kg + 1e-9 >= job.kg]
    if not suitable:
        return UnservedReason.CAPACITY
    first, second = job.visits
    for v in suitable:
        veh = vehicles[v]
        start, end = vehicle_nodes[v]
        nodes = [start, *(len(vehicle_nodes) * 2 + k for k in (first, second)), end]
        windows = [
            veh.shift,
            visits[first].window,
            visits[second].window,
            veh.shift,
        ]
        # Leave as late as useful so that waiting does not count against the max duration.
        leave = max(
            _sec(veh.shift.start) - offset,
            _sec(windows[1].start) - offset - seconds[v][nodes[0]][nodes[1]],
        )
        clock = leave
        feasible = True
        for a, b, window in zip(nodes, nodes[1:], windows[1:], strict=False):
            clock = max(clock + seconds[v][a][b], _sec(window.start) - offset)
            if clock > _sec(window.end) - offset:
                feasible = False
                break
        if (
            feasible
            and clock - leave <= _sec(veh.max_duration_min)
            and leave <= _sec(veh.shift.end) - offset
        ):
            return None
    return UnservedReason.WINDOW_UNREACHABLE


def build_model(
    problem: RoundsProblem,
    travel: TravelSource | None = None,
    *,
    keep: frozenset[str] = frozenset(),
    waiting_cost: bool = True,
) -> BuiltModel:
    """Build the OR-Tools routing model of `problem`.

    Parameters
    ----------
    problem
        The rounds to plan.
    travel
        Gives the travel matrix for a list of locations (e.g. `OsrmTableClient.table`);
        great-circle x ``problem.road_factor`` by default.
    keep
        Stop ids whose dropping costs more than others' (re-planning keeps them first).
    waiting_cost
        True: a round's duration (waiting included) costs through the time dimension's span.
        False: the search's proxy, much faster to search: each arc costs its metres plus its
        seconds (service and driving), so only waiting goes uncounted.

    Returns
    -------
    BuiltModel
        The closed-to-be model; jobs no vehicle could serve alone are left out with a reason.
    """
    started = time.perf_counter()
    vehicles = problem.vehicles
    visits, jobs = _visits_and_jobs(problem)
    locations: list[Location] = []
    for veh in vehicles:
        locations += [veh.start, veh.end]
    locations += [v.location for v in visits]
    unique = list(dict.fromkeys(locations))
    position = {loc: i for i, loc in enumerate(unique)}
    source = (
        travel
        if travel is not None
        else (lambda locs: great_circle_matrix(locs, problem.road_factor))
    )
    matrix = source(unique)
    n = len(locations)
    # numpy for the n x n work: Python loops cost seconds at a few hundred stops.
    where = np.asarray([position[loc] for loc in locations], dtype=np.intp)
    km = np.asarray(matrix.km, dtype=np.float64)[np.ix_(where, where)]
    minutes = (
        None
        if matrix.minutes is None
        else np.asarray(matrix.minutes, dtype=np.float64)[np.ix_(where, where)]
    )
    metres: list[list[int]] = np.rint(km * 1000).astype(np.int64).tolist()
    service = np.asarray(
        [0] * (2 * len(vehicles)) + [_sec(v.service_min) for v in visits], dtype=np.int64
    )
    # Hub visits in a row are one call at the hub: its fixed service time is paid on the arc
    # that enters the hub from elsewhere, and each visit only adds its per-kg handling.
    at_hub = np.asarray(
        [False] * (2 * len(vehicles))
        + [v.kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD) for v in visits]
    )
    hub_fixed_s = _sec(problem.service.fixed_min)
    entering_hub = ((~at_hub)[:, None] & at_hub[None, :]).astype(np.int64) * hub_fixed_s
    seconds: list[list[list[int]]] = []
    drives: list[npt.NDArray[np.int64]] = []
    by_speed: dict[tuple[float, bool], tuple[npt.NDArray[np.int64], list[list[int]]]] = {}
    for veh in vehicles:
        # OSRM's durations are for motor vehicles; bikes ride at their own speed.
        uses_osrm = minutes is not None and veh.kind is not VehicleKind.CARGO_BIKE
        key = (veh.speed, uses_osrm)
        if key not in by_speed:
            drive = minutes * 60 if uses_osrm and minutes is not None else km / veh.speed * 3600
            whole = np.rint(drive).astype(np.int64)
            by_speed[key] = (whole, (service[:, None] + whole + entering_hub).tolist())
        drives.append(by_speed[key][0])
        seconds.append(by_speed[key][1])

    # Times may start anywhere (even before the reference instant): shift them to 0.
    starts = [w.start for w in (*(v.shift for v in vehicles), *(v.window for v in visits))]
    offset = _sec(min(starts)) if starts else 0
    earliest: list[int] = []
    latest: list[int] = []
    for window in (
        *(w for veh in vehicles for w in (veh.shift, veh.shift)),
        *(v.window for v in visits),
    ):
        earliest.append(_sec(window.start) - offset)
        latest.append(_sec(window.end) - offset)
    vehicle_nodes = [(2 * v, 2 * v + 1) for v in range(len(vehicles))]
    excluded: dict[int, UnservedReason] = {}
    for j, job in enumerate(jobs):
        reason = _job_reason(job, visits, vehicles, vehicle_nodes, seconds, offset)
        if reason is not None:
            excluded[j] = reason

    manager = pywrapcp.RoutingIndexManager(
        n, len(vehicles), [s for s, _ in vehicle_nodes], [e for _, e in vehicle_nodes]
    )
    routing = pywrapcp.RoutingModel(manager)
    built = BuiltModel(
        problem=problem,
        vehicles=vehicles,
        visits=tuple(visits),
        jobs=tuple(jobs),
        excluded=excluded,
        manager=manager,
        routing=routing,
        metres=metres,
        seconds=seconds,
        offset=offset,
        hub_fixed_s=hub_fixed_s,
        drive=drives,
        service_s=service.tolist(),
        earliest=earliest,
        latest=latest,
        grams=[0] * (2 * len(vehicles)) + [round(v.delta_kg * 1000) for v in visits],
        capacity_g=[round(v.capacity_kg * 1000) for v in vehicles],
        max_span_s=[_sec(v.max_duration_min) for v in vehicles],
        fixed_cost=[round(v.fixed_cost * 1000) for v in vehicles],
        breaks=[
            [
                (b.id, _sec(b.window.start) - offset, _sec(b.window.end - b.duration_min) - offset,
                 _sec(b.duration_min))
                for b in sorted(veh.breaks, key=lambda b: (b.window.start, b.id))
            ]
            for veh in vehicles
        ],
        started=started,
    )
    if not vehicles:
        return built
    solver = routing.solver()
    horizon = max(
        _sec(w.end) - offset for w in (*(v.shift for v in vehicles), *(v.window for v in visits))
    )

    # Matrices registered in C++: no Python call per arc during the search.
    matrix_ids: dict[int, int] = {}
    transit = []
    for v in range(len(vehicles)):
        same = id(seconds[v])  # vehicles of one speed share one matrix
        if same not in matrix_ids:
            matrix_ids[same] = routing.RegisterTransitMatrix(seconds[v])
        transit.append(matrix_ids[same])
    # Kilometres on the arcs, duration through the span (or, for the proxy, each arc's
    # seconds on the arc), fixed costs per used vehicle.
    routing.AddDimensionWithVehicleTransits(transit, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    if waiting_cost:
        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(metres))
        time_dim.SetSpanCostCoefficientForAllVehicles(DURATION_COST)
    else:
        metres_np = np.asarray(metres, dtype=np.int64)
        arc_ids: dict[int, int] = {}
        for v in range(len(vehicles)):
            same = id(seconds[v])
            if same not in arc_ids:
                arc_cost = metres_np + DURATION_COST * np.asarray(seconds[v], dtype=np.int64)
                arc_ids[same] = routing.RegisterTransitMatrix(arc_cost.tolist())
            routing.SetArcCostEvaluatorOfVehicle(arc_ids[same], v)
    load = routing.RegisterUnaryTransitVector(built.grams)
    routing.AddDimensionWithVehicleCapacity(load, 0, built.capacity_g, True, "load")
    for v, cost in enumerate(built.fixed_cost):
        routing.SetFixedCostOfVehicle(cost, v)

    for v, veh in enumerate(vehicles):
        lo, hi = _sec(veh.shift.start) - offset, _sec(veh.shift.end) - offset
        time_dim.CumulVar(routing.Start(v)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(v)).SetRange(lo, hi)
        time_dim.SetSpanUpperBoundForVehicle(_sec(veh.max_duration_min), v)
    _add_breaks(built, time_dim)
    cold = [v for v, veh in enumerate(vehicles) if veh.refrigerated]
    base = 2 * len(vehicles)
    for j, job in enumerate(jobs):
        first, second = (manager.NodeToIndex(base + k) for k in job.visits)
        heavier = any(stop_id in keep for stop_id in job.stop_ids)
        # A job left out before the search costs nothing more: its nodes are fixed inactive.
        penalty = 0 if j in excluded else DROP_PENALTY * (_KEEP_BONUS if heavier else 1)
        if j in excluded:
            for index in (first, second):
                routing.ActiveVar(index).SetValue(0)
        for k, index in zip(job.visits, (first, second), strict=True):
            time_dim.CumulVar(index).SetRange(built.earliest[base + k], built.latest[base + k])
            routing.AddDisjunction([index], penalty)
            if job.refrigerated:
                # -1 stands for "not served" and must stay allowed.
                routing.VehicleVar(index).SetValues([-1, *cold])
        # Route order implies time order (transits are >= 0); an explicit cumul constraint
        # would also bind dropped jobs and could make the model infeasible.
        routing.AddPickupAndDelivery(first, second)
        solver.Add(routing.ActiveVar(first) == routing.ActiveVar(second))
        solver.Add(routing.VehicleVar(first) == routing.VehicleVar(second))
    return built


def _add_breaks(built: BuiltModel, time_dim: pywrapcp.RoutingDimension) -> None:
    """Drivers' breaks as intervals of the time dimension, taken only if the vehicle goes out.

    A break never overlaps a visit's service; it fits between two visits (possibly while
    the vehicle is on its way), and the time between them grows by its length.
    """
    routing, manager = built.routing, built.manager
    solver = routing.solver()
    visit_transits = [
        built.service_s[manager.IndexToNode(index)] for index in range(routing.Size())
    ] + [0] * len(built.vehicles)
    for v, breaks in enumerate(built.breaks):
        intervals = []
        for break_id, lo, hi, duration in breaks:
            interval = solver.FixedDurationIntervalVar(
                lo, hi, duration, True, f"break {built.vehicles[v].id} {break_id}"
            )
            solver.Add(interval.PerformedExpr() == routing.ActiveVehicleVar(v))
            intervals.append(interval)
        built.break_vars.append(intervals)
        if intervals:
            time_dim.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)


def _search_parameters(
    time_limit: float, strategy: int, solution_limit: int | None
) -> pywrapcp.DefaultRoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = strategy
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, round(time_limit * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    return params


def node_routes(built: BuiltModel, solution: pywrapcp.Assignment) -> list[list[int]]:
    """Visit node numbers of each vehicle's route, in order (starts and ends excluded)."""
    routing, manager = built.routing, built.manager
    routes: list[list[int]] = []
    for v in range(routing.vehicles()):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        route: list[int] = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _restore(
    built: BuiltModel, routes: Sequence[Sequence[int]], seconds: float = math.inf
) -> pywrapcp.Assignment | None:
    """The assignment of `routes` (node numbers per vehicle), or None if the model rejects it.

    When the whole plan is rejected, routes are added one by one for up to `seconds`, and a
    rejected route (or one not tried in time) is left empty: its jobs become unserved, for
    the search to insert again.
    """
    started = time.perf_counter()
    routing, manager = built.routing, built.manager
    indices = [[manager.NodeToIndex(node) for node in route] for route in routes]
    whole = routing.ReadAssignmentFromRoutes(indices, True)
    if whole is not None:
        return whole
    kept: list[list[int]] = [[] for _ in routes]
    for v, route in enumerate(indices):
        if not route or time.perf_counter() - started > seconds:
            continue
        kept[v] = route
        if routing.ReadAssignmentFromRoutes(kept, True) is None:
            kept[v] = []
    return routing.ReadAssignmentFromRoutes(kept, True)


def solve_model(
    built: BuiltModel,
    *,
    time_limit: float,
    seed: int,
    solution_limit: int | None = None,
    initial_routes: Sequence[Sequence[int]] | None = None,
) -> pywrapcp.Assignment | None:
    """Search the built model: from `initial_routes` if given, else insertion constructions;
    then guided local search.

    From a start (the given routes, as much of them as the model accepts), guided local
    search improves until the limit. Without one, local cheapest insertion (fast: an early
    answer) and parallel cheapest insertion (slower, usually fewer vehicles) each build a
    start within a share of the time left; the cheaper start is improved. If neither answers,
    path cheapest arc is tried, and as a last resort the search starts from the empty plan
    (every stop unserved is always feasible), so there is always an answer.

    Parameters
    ----------
    built
        From `build_model`.
    time_limit
        Wall-clock seconds for the whole search (first solutions included).
    seed
        Accepted for a uniform solver interface; OR-Tools' routing search has no random
        component, so the answer depends only on the model and the limits.
    solution_limit
        Stop the local search after this many solutions: with it (and constructions and
        search that end before their share of the time limit), the answer is identical from
        run to run.
    initial_routes
        Node numbers per vehicle to start from (VROOM's plan, or the plan being re-planned).

    Returns
    -------
    Assignment or None
        The best solution found, or None if none was.
    """
    del seed  # see the docstring: nothing random to seed
    routing = built.routing
    started = time.perf_counter()

    def record() -> None:
        built.note_solution(routing.CostVar().Value())

    routing.AddAtSolutionCallback(record)

    def left() -> float:
        return time_limit - (time.perf_counter() - started)

    def improve(start: pywrapcp.Assignment, share: float = 1.0) -> pywrapcp.Assignment | None:
        params = _search_parameters(left() * share, _IMPROVE_START, solution_limit)
        return routing.SolveFromAssignmentWithParameters(start, params)

    # The closing limit also bounds reading routes back (`_restore`), which a loaded machine
    # or a thousand stops can make slow: a start is worth waiting for.
    routing.CloseModelWithParameters(
        _search_parameters(max(_READ_LIMIT, time_limit), _IMPROVE_START, solution_limit)
    )
    if initial_routes is not None:
        initial = _restore(built, initial_routes, max(0.0, left()))
        if initial is not None:
            built.note_solution(initial.ObjectiveValue())
            if left() <= 0.01:
                return initial
            solution = improve(initial)
            return solution if solution is not None else initial
    # Constructions only (one solution each), fastest first so that there is an early
    # answer; the best start then gets guided local search for the time left.
    starts: list[tuple[int, pywrapcp.Assignment]] = []
    for strategy, share in _FIRST_SOLUTION_STRATEGIES:
        if left() <= 0 or (starts and strategy == _FALLBACK_STRATEGY):
            break
        solution = routing.SolveWithParameters(_search_parameters(left() * share, strategy, 1))
        if solution is not None:
            # A copy: the model reuses the answer's object on the next solve (and reading
            # routes back after a short search may fail on the search's limit).
            starts.append((solution.ObjectiveValue(), routing.solver().Assignment(solution)))
    if starts:
        best = min(starts, key=lambda s: s[0])[1]
        if left() <= 0.01:
            return best
        better = improve(best)
        return better if better is not None else best
    # Last resort, always feasible: everything unserved, then local search inserts what fits.
    empty = routing.ReadAssignmentFromRoutes([[] for _ in built.vehicles], True)
    if empty is None or left() <= 0:
        return empty
    solution = improve(empty)
    return solution if solution is not None else empty


def _is_hub(visit: _Visit) -> bool:
    return visit.kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD)


def _planned_breaks(
    built: BuiltModel,
    v: int,
    solution: pywrapcp.Assignment,
    starts: Sequence[int],
    round_start: int,
    round_end: int,
) -> tuple[PlannedBreak, ...]:
    """The breaks vehicle `v` takes during its round in `solution`; `starts` are its visits'
    start times (a break before leaving or after coming back is not listed)."""
    if not built.breaks[v]:
        return ()
    container = solution.IntervalVarContainer()
    stored = {}
    for k in range(container.Size()):
        element = container.Element(k)
        stored[element.Var().Name()] = element
    planned = []
    for (break_id, _, _, duration), interval in zip(
        built.breaks[v], built.break_vars[v], strict=True
    ):
        element = stored.get(interval.Name())
        if element is None or not element.PerformedValue():
            continue
        begin = element.StartValue()
        if not starts or begin + duration <= round_start or begin >= round_end:
            continue  # before leaving or after coming back: not part of the round
        after = sum(1 for start in starts if start < begin)
        planned.append(
            PlannedBreak(
                break_id=break_id,
                start_min=(begin + built.offset) / 60,
                end_min=(begin + duration + built.offset) / 60,
                after_stops=after,
            )
        )
    return tuple(sorted(planned, key=lambda b: b.start_min))


def extract_result(built: BuiltModel, solution: pywrapcp.Assignment | None) -> RoundsResult:
    """Read the routes and the unserved stops (with reasons) out of a solution."""
    routing, manager = built.routing, built.manager
    offset = built.offset
    base = built.base
    routes: list[Route] = []
    served: set[int] = set()
    if solution is not None and built.vehicles:
        time_dim = routing.GetDimensionOrDie("time")
        load_dim = routing.GetDimensionOrDie("load")
        for v, veh in enumerate(built.vehicles):
            if not routing.IsVehicleUsed(solution, v):
                continue
            index = routing.Start(v)
            planned: list[PlannedStop] = []
            starts: list[int] = []
            metres = 0
            start_s = solution.Value(time_dim.CumulVar(index))
            prev_node, prev_time = manager.IndexToNode(index), start_s
            index = solution.Value(routing.NextVar(index))
            while True:
                node = manager.IndexToNode(index)
                travel = built.seconds[v][prev_node][node]
                arrival = prev_time + travel
                metres += built.metres[prev_node][node]
                begin = solution.Value(time_dim.CumulVar(index))
                if routing.IsEnd(index):
                    end_s = begin
                    break
                visit = built.visits[node - base]
                if _is_hub(visit) and not (
                    prev_node >= base and _is_hub(built.visits[prev_node - base])
                ):
                    # The arc into the hub carries the hub's fixed service: not travel.
                    arrival -= built.hub_fixed_s
                served.add(visit.job)
                service_s = _sec(visit.service_min)
                starts.append(begin)
                planned.append(
                    PlannedStop(
                        stop_id=visit.stop_id,
                        kind=visit.kind,
                        # A break on the way, or waiting, comes before the arrival.
                        arrival_min=(min(arrival, begin) + offset) / 60,
                        start_min=(begin + offset) / 60,
                        departure_min=(begin + service_s + offset) / 60,
                        load_kg=(solution.Value(load_dim.CumulVar(index)) / 1000) + visit.delta_kg,
                        for_stop=visit.for_stop,
                    )
                )
                prev_node, prev_time = node, begin
                index = solution.Value(routing.NextVar(index))
            routes.append(
                Route(
                    vehicle_id=veh.id,
                    stops=tuple(planned),
                    start_min=(start_s + offset) / 60,
                    end_min=(end_s + offset) / 60,
                    km=metres / 1000,
                    duration_min=(end_s - start_s) / 60,
                    breaks=_planned_breaks(built, v, solution, starts, start_s, end_s),
                )
            )
    unserved: list[Unserved] = []
    for j, job in enumerate(built.jobs):
        if j in served:
            continue
        reason = built.excluded.get(j) or built.reasons.get(j, UnservedReason.FLEET_FULL)
        fr, en = _MESSAGES[reason]
        unserved += [Unserved(stop_id, reason, fr, en) for stop_id in job.stop_ids]
    if solution is None:
        status = "no_solution"
    else:
        status = "all_served" if not unserved else "partial"
    return RoundsResult(
        routes=tuple(routes),
        unserved=tuple(unserved),
        total_km=sum((r.km for r in routes), 0.0),
        total_duration_min=sum((r.duration_min for r in routes), 0.0),
        time_to_first_solution=built.first_solution_at[0] if built.first_solution_at else 0.0,
        status=status,
        time_to_complete=built.complete_at[0] if built.complete_at else None,
    )


def _settle_unserved(
    built: BuiltModel,
    solution: pywrapcp.Assignment | None,
    rebuild: Callable[[bool], BuiltModel],
) -> tuple[BuiltModel, pywrapcp.Assignment | None]:
    """Try every servable job the search left out in every route; keep the plan that takes
    them, and record why the others stay out (no room, or no vehicle could serve them alone).

    The grown plan is read into a fresh model from `rebuild` (given whether waiting costs):
    after a short search, the searched model may fail to read routes back (its search limit
    is spent).
    """
    if not built.vehicles:
        return built, solution
    routes = (
        node_routes(built, solution)
        if solution is not None
        else [[] for _ in built.vehicles]
    )
    served = {built.visits[node - built.base].job for route in routes for node in route}
    missing = [j for j in range(len(built.jobs)) if j not in served and j not in built.excluded]
    if not missing:
        return built, solution
    grown, reasons = insert_jobs(built, routes, missing)
    built.reasons.update(reasons)
    if len(reasons) == len(missing):
        return built, solution
    # The full model first (it times the visits best), then the proxy, which reads routes
    # back fast; route by route only on the proxy (the full model takes all its limit).
    for waiting_cost in (True, False):
        fresh = rebuild(waiting_cost)
        fresh.started = built.started
        fresh.first_solution_at = built.first_solution_at
        fresh.complete_at = built.complete_at
        fresh.reasons = built.reasons
        fresh.routing.CloseModelWithParameters(
            _search_parameters(_JUDGING[1], _IMPROVE_START, None)
        )
        if waiting_cost:
            indices = [[fresh.manager.NodeToIndex(node) for node in route] for route in grown]
            restored = fresh.routing.ReadAssignmentFromRoutes(indices, True)
        else:
            restored = _restore(fresh, grown, _JUDGING[1])
        if restored is not None:
            fresh.note_solution(restored.ObjectiveValue())
            return fresh, restored
    # The model and the insertion check disagree: keep the searched plan, and say so.
    _log.warning("re-inserted plan rejected by the model; keeping the searched plan")
    return built, solution


def solve_rounds(
    problem: RoundsProblem,
    *,
    time_limit: float,
    seed: int,
    solution_limit: int | None = None,
    travel: TravelSource | None = None,
    use_vroom: bool = True,
) -> RoundsResult:
    """Plan the rounds of `problem` within `time_limit` seconds, all stages included.

    VROOM builds a plan (up to 80 % of the budget left after building the model; it often
    converges sooner); OR-Tools' guided local search polishes it on the proxy model for the
    rest of the budget but a share kept to read the plans into the full model, which keeps
    the cheaper of VROOM's and the polished one. Without a VROOM plan, OR-Tools builds its
    own. A servable stop left out at the end is tried in every route before being reported.

    Parameters
    ----------
    problem
        Stops, vehicles and optional hub.
    time_limit
        Wall-clock seconds for the whole solve (model, both stages and extraction).
    seed
        Seed (recorded for a uniform interface; both stages are deterministic).
    solution_limit
        Optional cap on OR-Tools' improving solutions, for results identical from run to run.
    travel
        Travel-matrix source (e.g. an `OsrmTableClient`'s ``table``); great-circle by default.
    use_vroom
        False: OR-Tools alone (constructions and local search), as before the hybrid.

    Returns
    -------
    RoundsResult
        Routes (non-empty only) and every stop left out with its reason.
    """
    started = time.perf_counter()
    built = build_model(problem, travel)
    built.started = started

    def left() -> float:
        return time_limit - (time.perf_counter() - started) - _RESERVE

    initial: list[list[int]] | None = None
    engine = "ortools"
    if use_vroom and built.vehicles and len(built.excluded) < len(built.jobs):
        initial = vroom_routes(built, time_limit=max(0.01, left() * _VROOM_SHARE))
        if initial is not None:
            engine = "vroom+ortools"
            initial = fitting_routes(built, initial)
    # Guided local search on the proxy (no span cost: an order of magnitude more moves per
    # second), then the plan is judged on the full model against the start it came from.
    least, most, share = _JUDGING
    judging = min(most, max(least, share * time_limit))
    proxy = build_model(problem, travel, waiting_cost=False)
    proxy.started = started
    proxy.first_solution_at = built.first_solution_at
    proxy.complete_at = built.complete_at
    searched = solve_model(
        proxy,
        time_limit=max(0.01, left() - judging),
        seed=seed,
        solution_limit=solution_limit,
        initial_routes=initial,
    )
    candidates = [] if initial is None else [initial]
    if searched is not None:
        candidates.insert(0, node_routes(proxy, searched))
    solution = _best_on_full_model(built, candidates, judging / max(1, len(candidates)))
    if solution is None and searched is not None:
        # The full model could not read the plan in time: keep the proxy's own timing.
        built, solution = proxy, searched
    built, solution = _settle_unserved(
        built, solution, lambda full: build_model(problem, travel, waiting_cost=full)
    )
    return replace(extract_result(built, solution), engine=engine)


def _best_on_full_model(
    built: BuiltModel, candidates: Sequence[Sequence[Sequence[int]]], seconds: float
) -> pywrapcp.Assignment | None:
    """The candidate plan (node routes) of least cost on the full model, read into it
    within `seconds` each; None if none could be read."""
    built.routing.CloseModelWithParameters(_search_parameters(seconds, _IMPROVE_START, None))
    best: pywrapcp.Assignment | None = None
    for routes in candidates:
        indices = [[built.manager.NodeToIndex(node) for node in route] for route in routes]
        assignment = built.routing.ReadAssignmentFromRoutes(indices, True)
        if assignment is not None and (
            best is None or assignment.ObjectiveValue() < best.ObjectiveValue()
        ):
            # A copy: the next read reuses the model's assignment object.
            best = built.routing.solver().Assignment(assignment)
    return best


def _whole_jobs(built: BuiltModel, listed: list[int]) -> list[int]:
    """The nodes of `listed` whose job is entirely in it (and not excluded), in order."""
    base = 2 * len(built.vehicles)
    present = set(listed)
    kept = []
    for node in listed:
        job = built.visits[node - base].job
        # Both halves of a job or neither: the start must be a valid assignment.
        if job not in built.excluded and all(base + k in present for k in built.jobs[job].visits):
            kept.append(node)
    return kept


def replan_without_vehicle(
    problem: RoundsProblem,
    previous: RoundsResult,
    vehicle_id: str,
    *,
    time_limit: float,
    seed: int,
    solution_limit: int | None = None,
    travel: TravelSource | None = None,
) -> RoundsResult:
    """Re-plan after a vehicle drops out, keeping the other rounds where possible.

    Every stop of another round stays in that round, in the same relative order; the stops
    of the lost vehicle (and those unserved before) are inserted where they fit, or reported.
    A kept stop is dropped only if nothing else works (its penalty is higher).

    Parameters
    ----------
    problem
        The problem that `previous` answered.
    previous
        The current plan.
    vehicle_id
        The vehicle that is no longer available.
    time_limit, seed, solution_limit, travel
        As for `solve_rounds`.

    Returns
    -------
    RoundsResult
        The new plan, without `vehicle_id`.
    """
    if all(v.id != vehicle_id for v in problem.vehicles):
        raise ValueError(f"unknown vehicle {vehicle_id}")
    reduced = replace(problem, vehicles=tuple(v for v in problem.vehicles if v.id != vehicle_id))
    kept_ids = frozenset(
        stop.for_stop or stop.stop_id
        for route in previous.routes
        if route.vehicle_id != vehicle_id
        for stop in route.stops
    )
    built = build_model(reduced, travel, keep=kept_ids)
    base = 2 * len(reduced.vehicles)
    node_of = {
        (vis.kind, vis.stop_id, vis.for_stop): base + k for k, vis in enumerate(built.visits)
    }
    vehicle_index = {veh.id: v for v, veh in enumerate(reduced.vehicles)}
    initial: list[list[int]] = [[] for _ in reduced.vehicles]
    routing, manager = built.routing, built.manager
    solver = routing.solver()
    for route in previous.routes:
        v = vehicle_index.get(route.vehicle_id)
        if v is None:
            continue
        time_dim = routing.GetDimensionOrDie("time")
        listed = [
            node_of[key]
            for stop in route.stops
            if (key := (stop.kind, stop.stop_id, stop.for_stop)) in node_of
        ]
        nodes = _whole_jobs(built, listed)
        initial[v] = nodes
        indices = [manager.NodeToIndex(node) for node in nodes]
        for index in indices:
            # The stop stays with its vehicle (or, as a last resort, is dropped).
            routing.VehicleVar(index).SetValues([-1, v])
        for a, b in zip(indices, indices[1:], strict=False):
            # Same relative order as before; new stops may come in between.
            solver.Add(time_dim.CumulVar(a) <= time_dim.CumulVar(b))
    solution = solve_model(
        built,
        time_limit=time_limit,
        seed=seed,
        solution_limit=solution_limit,
        initial_routes=initial,
    )
    built, solution = _settle_unserved(
        built, solution, lambda full: build_model(reduced, travel, keep=kept_ids, waiting_cost=full)
    )
    return extract_result(built, solution)
