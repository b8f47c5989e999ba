"""The product's rounds (`solve_rounds`) against VROOM and PyVRP on product-shaped days.

Instances are generated over Marseille like the product's days: farm pick-ups paired with a
point (unpooled) or brought to the hub within its drop window and delivered from it within
its load window (pooled), 20-40 % of the kg refrigerated, refrigerated vans from the depot
on 8 h shifts with a 30 min break, volunteers' cars from home with 3-4 h availability and
150-300 kg; fixed costs per vehicle (van 40 km, car 20 km). Shapes vary the pooling and the
windows' width; sizes and seeds are fixed so that a run can be repeated.

Every solver gets the same travel matrix (great circle x 1.3, times from each vehicle's
speed, rounded to the second per arc) and the same wall time, one solver at a time, and
each plan is checked by `baskets.optimizer.routing.check` (which shares no code with the
solvers). PyVRP has no drivers' breaks: its plans are checked with them all the same.

Usage::

    PYTHONPATH=. python benchmarks/routing.py rounds --sizes 80,200 --seeds 7 \
        --shapes all --time-limit 30
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from baskets.optimizer.routing import (
    Break,
    Hub,
    Location,
    RoundsProblem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleKind,
    VisitKind,
    great_circle_matrix,
    solve_rounds,
)
from baskets.optimizer.routing.check import PlanCheck, check_plan, result_visits
from baskets.optimizer.routing.objective import DURATION_COST
from baskets.optimizer.routing.vroom_start import VROOM_THREADS

SHAPES = {
    # name: (share of the kg through the hub, window widths in minutes)
    "pooled-tight": (0.8, (60, 90)),
    "pooled-loose": (0.8, (180, 300)),
    "unpooled-tight": (0.2, (60, 90)),
    "unpooled-loose": (0.2, (180, 300)),
    "mixed": (0.5, (60, 240)),
}
HUB = Location(43.3337, 5.3882)  # Marseille, near the wholesale market
VAN_FIXED_KM, CAR_FIXED_KM = 40.0, 20.0
Visits = list[tuple[VisitKind, str]]


def _around(rng: random.Random, centre: Location, km: float) -> Location:
    """A point within `km` of `centre` (uniform on the disc)."""
    r, a = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return Location(
        centre.lat + r * math.cos(a) / 111.2,
        centre.lon + r * math.sin(a) / (111.2 * math.cos(math.radians(centre.lat))),
    )


def product_instance(stops: int, seed: int, shape: str) -> RoundsProblem:
    """A product-shaped day of about `stops` stops (exactly `stops` when even)."""
    rng = random.Random(f"{shape}/{stops}/{seed}")
    pooled, (narrow, wide) = SHAPES[shape]
    cold_share = rng.uniform(0.2, 0.4)
    city = Location(43.33, 5.40)

    def farm() -> Location:
        return _around(rng, Location(43.36, 5.45), 25)

    def point() -> Location:
        return _around(rng, city, 7)

    def window(earliest: int, latest: int) -> TimeWindow:
        width = rng.randint(narrow, wide)
        start = rng.randint(earliest, max(earliest, latest - width))
        return TimeWindow(start, start + width)

    made: list[Stop] = []
    k = 0
    while len(made) < stops:
        kg = float(rng.randint(15, 140))
        cold = rng.random() < cold_share
        if rng.random() < pooled or len(made) == stops - 1:
            if rng.random() < 0.5:
                made.append(Stop(f"f{k}", StopKind.PICKUP, farm(), window(420, 720), kg, cold))
            else:
                made.append(Stop(f"p{k}", StopKind.DELIVERY, point(), window(810, 1110), kg, cold))
        else:
            pickup = window(420, 720)
            # Delivered within 1-3 h of the pick-up window: a volunteer's shift can hold both.
            later = int(pickup.start) + rng.randint(60, 180)
            made.append(Stop(f"f{k}", StopKind.PICKUP, farm(), pickup, kg, cold))
            made.append(
                Stop(f"p{k}", StopKind.DELIVERY, point(), window(later, later + wide), kg, cold,
                     f"f{k}")
            )
        k += 1
    hub = Hub("hub", HUB, TimeWindow(420, 780), TimeWindow(780, 1080))
    cold_kg = sum(s.kg for s in made if s.refrigerated)
    total_kg = sum(s.kg for s in made)
    vehicles: list[Vehicle] = []
    for v in range(math.ceil(cold_kg / 400) + 2):
        # Early and late vans in turn: cold pick-ups are in the morning, deliveries later.
        start = (420, 600, 480)[v % 3]
        vehicles.append(
            Vehicle(
                f"van{v}",
                float(rng.choice([600, 800])),
                True,
                HUB,
                HUB,
                TimeWindow(start, start + 480),
                480,
                VehicleKind.REFRIGERATED_VAN,
                fixed_cost=VAN_FIXED_KM,
                breaks=(Break("pause", TimeWindow(start + 210, start + 330), 30),),
            )
        )
    for c in range(math.ceil((total_kg - cold_kg) / 150) + 2):
        home = _around(rng, city, 8)
        hours = rng.choice([180, 210, 240])
        start = rng.choice([420, 480, 540, 600, 780, 840, 870])
        vehicles.append(
            Vehicle(
                f"car{c}",
                float(rng.choice([150, 200, 250, 300])),
                False,
                home,
                home,
                TimeWindow(start, start + hours),
                hours,
                VehicleKind.CAR,
                fixed_cost=CAR_FIXED_KM,
            )
        )
    return RoundsProblem(tuple(made), tuple(vehicles), hub)


class SharedMatrix:
    """One great-circle matrix over every place of a problem, answering any subset."""

    def __init__(self, problem: RoundsProblem) -> None:
        places = [loc for v in problem.vehicles for loc in (v.start, v.end)]
        places += [s.location for s in problem.stops]
        if problem.hub is not None:
            places.append(problem.hub.location)
        self.places = list(dict.fromkeys(places))
        self.index = {loc: i for i, loc in enumerate(self.places)}
        full = great_circle_matrix(self.places, problem.road_factor)
        self.km = np.asarray(full.km, dtype=np.float64)

    def sub(self, locations: Sequence[Location]) -> npt_array:
        rows = [self.index[loc] for loc in locations]
        return self.km[np.ix_(rows, rows)]

    def travel(self, locations: Sequence[Location]) -> TravelMatrix:
        return TravelMatrix(km=tuple(map(tuple, self.sub(locations).tolist())))


npt_array = np.ndarray


@dataclass
class Plan:
    """One solver's answer: visits per vehicle, time to a complete plan, wall time."""

    solver: str
    routes: list[tuple[str, Visits]]
    complete_at: float | None
    wall: float
    note: str = ""


# ------------------------------------------------------------------ peers' common data
@dataclass
class Flat:
    """A problem flattened for the peers: jobs (first visit, second visit) with integers."""

    places: list[Location]
    jobs: list[tuple[tuple[VisitKind, str], tuple[VisitKind, str]]]
    job_place: list[tuple[int, int]]
    job_windows: list[tuple[tuple[int, int], tuple[int, int]]]
    job_service: list[tuple[int, int]]
    job_setup: list[tuple[int, int]]
    job_grams: list[int]
    job_cold: list[bool]
    hub_places: set[int]


def flatten(problem: RoundsProblem) -> Flat:
    """Jobs as the product defines them: farm -> point, farm -> hub, hub -> point."""
    hub = problem.hub
    service = problem.service
    fixed = round(service.fixed_min * 60)
    places: list[Location] = [loc for v in problem.vehicles for loc in (v.start, v.end)]
    flat = Flat(places, [], [], [], [], [], [], [], set())
    delivery_of = {s.source: s for s in problem.stops if s.source is not None}

    def own(stop: Stop) -> tuple[int, tuple[int, int], int]:
        places.append(stop.location)
        window = (round(stop.window.start * 60), round(stop.window.end * 60))
        return len(places) - 1, window, round(service.minutes(stop.kg) * 60)

    def at_hub(stop: Stop, drop: bool) -> tuple[int, tuple[int, int], int]:
        assert hub is not None
        w = hub.drop_window if drop else hub.load_window
        places.append(hub.location)
        flat.hub_places.add(len(places) - 1)
        # The peers' windows bind the start of the hub's fixed part (VROOM's setup; PyVRP
        # has none and pays it at each hub visit): end them that much earlier, so that the
        # product's windows (on the visit's own service) are kept.
        window = (round(w.start * 60), round(w.end * 60) - fixed)
        return len(places) - 1, window, round(service.per_kg_min * stop.kg * 60)

    for stop in problem.stops:
        if stop.kind is StopKind.PICKUP:
            partner = delivery_of.get(stop.id)
            a = own(stop)
            if partner is not None:
                b = own(partner)
                visits = ((VisitKind.PICKUP, stop.id), (VisitKind.DELIVERY, partner.id))
                cold = stop.refrigerated or partner.refrigerated
                setup = (0, 0)
            else:
                b = at_hub(stop, True)
                visits = ((VisitKind.PICKUP, stop.id), (VisitKind.HUB_DROP, stop.id))
                cold = stop.refrigerated
                setup = (0, fixed)
        elif stop.source is None:
            a, b = at_hub(stop, False), own(stop)
            visits = ((VisitKind.HUB_LOAD, stop.id), (VisitKind.DELIVERY, stop.id))
            cold = stop.refrigerated
            setup = (fixed, 0)
        else:
            continue
        flat.jobs.append(visits)
        flat.job_place.append((a[0], b[0]))
        flat.job_windows.append((a[1], b[1]))
        flat.job_service.append((a[2], b[2]))
        flat.job_setup.append(setup)
        flat.job_grams.append(round(stop.kg * 1000))
        flat.job_cold.append(cold)
    return flat


def _profiles(problem: RoundsProblem) -> tuple[list[float], list[int]]:
    speeds = sorted({v.speed for v in problem.vehicles})
    return speeds, [speeds.index(v.speed) for v in problem.vehicles]


# ------------------------------------------------------------------ VROOM
def run_vroom(problem: RoundsProblem, shared: SharedMatrix, time_limit: float) -> Plan:
    """VROOM (pyvroom), exploration level 5, the product's cost weights and matrix."""
    import vroom

    started = time.perf_counter()
    flat = flatten(problem)
    # Hub visits share one location index (VROOM pays a setup once per call there).
    hub_index: int | None = None
    location: list[int] = []
    rows: list[int] = []
    for i in range(len(flat.places)):
        is_hub = i in flat.hub_places
        if is_hub and hub_index is not None:
            location.append(hub_index)
            continue
        location.append(len(rows))
        if is_hub:
            hub_index = len(rows)
        rows.append(i)
    km = shared.sub([flat.places[r] for r in rows])
    speeds, profile = _profiles(problem)
    problem_in = vroom.Input()
    for p, speed in enumerate(speeds):
        problem_in.set_durations_matrix(f"p{p}", np.rint(km / speed * 3600).astype(np.int64))
        problem_in.set_distances_matrix(f"p{p}", np.rint(km * 1000).astype(np.int64))
    for v, veh in enumerate(problem.vehicles):
        problem_in.add_vehicle(
            vroom.Vehicle(
                v,
                start=location[2 * v],
                end=location[2 * v + 1],
                profile=f"p{profile[v]}",
                capacity=[round(veh.capacity_kg * 1000)],
                skills={1} if veh.refrigerated else set(),
                time_window=vroom.TimeWindow(
                    round(veh.shift.start * 60), round(veh.shift.end * 60)
                ),
                breaks=[
                    vroom.Break(
                        k,
                        time_windows=[
                            vroom.TimeWindow(
                                round(b.window.start * 60),
                                round((b.window.end - b.duration_min) * 60),
                            )
                        ],
                        service=round(b.duration_min * 60),
                    )
                    for k, b in enumerate(veh.breaks)
                ],
                costs=vroom.VehicleCosts(
                    fixed=round(veh.fixed_cost * 1000), per_hour=DURATION_COST * 3600, per_km=1000
                ),
            )
        )
    for j in range(len(flat.jobs)):
        steps = [
            vroom.ShipmentStep(
                2 * j + side,
                location[flat.job_place[j][side]],
                default_setup=flat.job_setup[j][side],
                default_service=flat.job_service[j][side],
                time_windows=[
                    vroom.TimeWindow(*(max(0, t) for t in flat.job_windows[j][side]))
                ],
            )
            for side in (0, 1)
        ]
        problem_in.add_shipment(
            steps[0],
            steps[1],
            amount=vroom.Amount([flat.job_grams[j]]),
            skills={1} if flat.job_cold[j] else set(),
        )
    left = time_limit - (time.perf_counter() - started)
    solution = problem_in.solve(
        exploration_level=5, nb_threads=VROOM_THREADS, timeout=timedelta(seconds=max(0.01, left))
    )
    wall = time.perf_counter() - started
    frame = solution.routes
    by_vehicle: dict[int, Visits] = {}
    for vehicle, kind, step in zip(
        frame["vehicle_id"].tolist(),
        frame["type"].astype(str).tolist(),
        frame["id"].tolist(),
        strict=True,
    ):
        if kind in ("pickup", "delivery"):
            j, side = divmod(int(step), 2)
            by_vehicle.setdefault(int(vehicle), []).append(flat.jobs[j][side])
    routes = [(problem.vehicles[v].id, visits) for v, visits in sorted(by_vehicle.items())]
    served = sum(len(visits) for _, visits in routes) // 2
    return Plan("VROOM", routes, wall if served == len(flat.jobs) else None, wall)


# ------------------------------------------------------------------ PyVRP
def run_pyvrp(problem: RoundsProblem, shared: SharedMatrix, time_limit: float, seed: int) -> Plan:
    """PyVRP shipments; cold chain as a second load dimension; no breaks (PyVRP has none)."""
    import pyvrp
    import pyvrp.stop

    started = time.perf_counter()
    flat = flatten(problem)
    # Depots first: every vehicle's start and end place.
    depot_places = list(dict.fromkeys(loc for v in problem.vehicles for loc in (v.start, v.end)))
    locations = depot_places + flat.places[2 * len(problem.vehicles) :]
    offset = len(depot_places) - 2 * len(problem.vehicles)
    km = shared.sub(locations)
    speeds, profile = _profiles(problem)
    depots = [pyvrp.Depot(i) for i in range(len(depot_places))]
    vehicle_types = [
        pyvrp.VehicleType(
            1,
            capacity=[
                round(veh.capacity_kg * 1000),
                round(veh.capacity_kg * 1000) if veh.refrigerated else 0,
            ],
            start_depot=depot_places.index(veh.start),
            end_depot=depot_places.index(veh.end),
            fixed_cost=round(veh.fixed_cost * 1000),
            tw_early=round(veh.shift.start * 60),
            tw_late=round(veh.shift.end * 60),
            shift_duration=round(veh.max_duration_min * 60),
            unit_distance_cost=1,
            unit_duration_cost=DURATION_COST,
            profile=profile[v],
            name=veh.id,
        )
        for v, veh in enumerate(problem.vehicles)
    ]
    shipments = []
    for j in range(len(flat.jobs)):
        (pa, pb), (wa, wb) = flat.job_place[j], flat.job_windows[j]
        (sa, sb), (ua, ub) = flat.job_service[j], flat.job_setup[j]
        grams = flat.job_grams[j]
        # No setup in PyVRP: the hub's fixed part is paid at each hub visit.
        shipments.append(
            pyvrp.Shipment(
                pa + offset,
                pb + offset,
                pickup_tw_early=max(0, wa[0]),
                pickup_tw_late=wa[1],
                pickup_service_duration=sa + ua,
                delivery_tw_early=max(0, wb[0]),
                delivery_tw_late=wb[1],
                delivery_service_duration=sb + ub,
                amount=[grams, grams if flat.job_cold[j] else 0],
            )
        )
    metres = np.rint(km * 1000).astype(np.int64)
    data = pyvrp.ProblemData(
        [pyvrp.Location(0, 0) for _ in locations],
        [],
        depots,
        vehicle_types,
        [metres for _ in speeds],
        [np.rint(km / speed * 3600).astype(np.int64) for speed in speeds],
        shipments=shipments,
    )
    ready = time.perf_counter() - started
    result = pyvrp.solve(data, pyvrp.stop.MaxRuntime(max(0.01, time_limit - ready)), seed=seed)
    wall = time.perf_counter() - started
    complete_at = None
    runtimes = list(result.stats.runtimes)
    for k, datum in enumerate(result.stats.data):
        if datum.best_feas:  # the first iteration whose best plan is feasible
            complete_at = ready + sum(runtimes[: k + 1])
            break
    routes: list[tuple[str, Visits]] = []
    for route in result.best.routes():
        visits: Visits = []
        for activity in route.schedule():
            if activity.is_pickup() or activity.is_delivery():
                visits.append(flat.jobs[activity.idx][0 if activity.is_pickup() else 1])
        if visits:
            routes.append((problem.vehicles[route.vehicle_type()].id, visits))
    note = "" if result.is_feasible() else "PyVRP: best plan infeasible"
    return Plan("PyVRP", routes, complete_at if result.is_feasible() else None, wall, note)


def run_ours(
    problem: RoundsProblem, shared: SharedMatrix, time_limit: float, seed: int, vroom: bool
) -> Plan:
    """The product path: `solve_rounds` (hybrid) or OR-Tools alone."""
    started = time.perf_counter()
    result = solve_rounds(
        problem, time_limit=time_limit, seed=seed, travel=shared.travel, use_vroom=vroom
    )
    wall = time.perf_counter() - started
    name = "ours" if vroom else "OR-Tools"
    return Plan(name, result_visits(result), result.time_to_complete, wall, result.engine)


# ------------------------------------------------------------------ the run
@dataclass
class Row:
    instance: str
    solver: str
    stops: int
    served: int
    check: PlanCheck
    complete_at: float | None
    wall: float
    note: str


def measure(
    instance: str,
    problem: RoundsProblem,
    solvers: Sequence[str],
    time_limit: float,
    seed: int,
) -> list[Row]:
    shared = SharedMatrix(problem)
    runners: dict[str, Callable[[], Plan]] = {
        "ours": lambda: run_ours(problem, shared, time_limit, seed, True),
        "ortools": lambda: run_ours(problem, shared, time_limit, seed, False),
        "vroom": lambda: run_vroom(problem, shared, time_limit),
        "pyvrp": lambda: run_pyvrp(problem, shared, time_limit, seed),
    }
    rows = []
    for solver in solvers:
        plan = runners[solver]()
        check = check_plan(problem, plan.routes, shared.travel)
        rows.append(
            Row(
                instance,
                plan.solver,
                len(problem.stops),
                len(check.served),
                check,
                plan.complete_at,
                plan.wall,
                plan.note,
            )
        )
        print_row(rows[-1])
    return rows


def print_row(row: Row) -> None:
    first = "-" if row.complete_at is None else f"{row.complete_at:.2f}"
    feasible = (
        "yes"
        if row.check.feasible
        else f"NO ({len(row.check.violations)}: {row.check.violations[0]})"
    )
    print(
        f"{row.instance:<24} {row.solver:<9} {row.served:>4}/{row.stops:<4} "
        f"{row.check.vehicles:>4} {row.check.km:>9.1f} {row.check.hours:>7.2f} {first:>7} "
        f"{row.wall:>7.2f}  {feasible}"
        + (f"  [{row.note}]" if row.note else ""),
        flush=True,
    )


def ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def summarise(rows: list[Row], reference: str) -> None:
    by_instance: dict[str, dict[str, Row]] = {}
    for row in rows:
        by_instance.setdefault(row.instance, {})[row.solver] = row
    pairs = [
        (d["ours"], d[reference]) for d in by_instance.values() if "ours" in d and reference in d
    ]
    if not pairs:
        return
    print()
    print(f"ours / {reference}, per instance: vehicles, km, hours (complete & feasible only)")
    km_r, h_r = [], []
    for ours, ref in pairs:
        ok = ours.served == ours.stops and ours.check.feasible
        line = (
            f"  {ours.instance:<24} served {ours.served}/{ours.stops} vs {ref.served}, "
            f"feasible {ours.check.feasible}/{ref.check.feasible}, "
            f"vehicles {ours.check.vehicles} vs {ref.check.vehicles}, "
            f"km x{ratio(ours.check.km, ref.check.km):.3f}, "
            f"hours x{ratio(ours.check.hours, ref.check.hours):.3f}"
        )
        print(line)
        if ok and ref.served == ref.stops and ref.check.feasible:
            km_r.append(ratio(ours.check.km, ref.check.km))
            h_r.append(ratio(ours.check.hours, ref.check.hours))
    complete = sum(1 for ours, _ in pairs if ours.served == ours.stops and ours.check.feasible)
    fewer = sum(1 for ours, ref in pairs if ours.check.vehicles <= ref.check.vehicles)
    print(
        f"  ours complete and feasible: {complete}/{len(pairs)}; "
        f"vehicles <= {reference}: {fewer}/{len(pairs)}"
    )
    if km_r:
        print(
            f"  km ratio mean {statistics.mean(km_r):.3f} max {max(km_r):.3f}; "
            f"hours ratio mean {statistics.mean(h_r):.3f} max {max(h_r):.3f} "
            f"(over {len(km_r)} instances both complete and feasible)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,80,200", help="stops per instance")
    parser.add_argument("--seeds", default="11,12", help="instance seeds")
    parser.add_argument("--shapes", default="all", help=f"'all' or some of {', '.join(SHAPES)}")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per solver")
    parser.add_argument("--seed", type=int, default=1, help="solvers' seed")
    parser.add_argument(
        "--solvers", default="ours,vroom,pyvrp", help="some of ours, ortools, vroom, pyvrp"
    )
    args = parser.parse_args(argv)
    shapes = list(SHAPES) if args.shapes == "all" else args.shapes.split(",")
    solvers = args.solvers.split(",")
    print(
        f"product-shaped days over Marseille; {args.time_limit:g} s per solver, one at a time; "
        f"VROOM {VROOM_THREADS} threads; plans checked by baskets.optimizer.routing.check"
    )
    print(
        f"{'instance':<24} {'solver':<9} {'served':>9} {'veh':>4} {'km':>9} {'hours':>7} "
        f"{'full s':>7} {'wall s':>7}  feasible"
    )
    rows: list[Row] = []
    for size in (int(s) for s in args.sizes.split(",")):
        for shape in shapes:
            for seed in (int(s) for s in args.seeds.split(",")):
                problem = product_instance(size, seed, shape)
                rows += measure(
                    f"{shape}/{size}/{seed}", problem, solvers, args.time_limit, args.seed
                )
    for reference in ("VROOM", "PyVRP"):
        if reference.lower() in solvers:
            summarise(rows, reference)
    return 0
