"""Hybrid rounds (VROOM start, OR-Tools polish): breaks, fixed costs, re-insertion, the
independent plan check, and feasibility of the plans on small product-shaped days."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baskets.optimizer.routing import (
    Break,
    Hub,
    Location,
    RoundsProblem,
    RoundsResult,
    ServiceTime,
    Stop,
    StopKind,
    TimeWindow,
    UnservedReason,
    Vehicle,
    VehicleKind,
    VisitKind,
    check_plan,
    result_visits,
    solve_rounds,
)
from baskets.optimizer.routing.solve import build_model
from baskets.optimizer.routing.vroom_start import vroom_available, vroom_routes

DEPOT = Location(43.30, 5.40)
DAY = TimeWindow(360, 1080)
NO_SERVICE = ServiceTime(fixed_min=0, per_kg_min=0)


def at(km_north: float, km_east: float = 0.0) -> Location:
    return Location(
        DEPOT.lat + km_north / 111.195,
        DEPOT.lon + km_east / (111.195 * math.cos(math.radians(DEPOT.lat))),
    )


def van(
    vid: str,
    *,
    home: Location = DEPOT,
    shift: TimeWindow = DAY,
    capacity: float = 500,
    cold: bool = False,
    fixed_cost: float = 0.0,
    breaks: tuple[Break, ...] = (),
) -> Vehicle:
    return Vehicle(
        vid, capacity, cold, home, home, shift, shift.end - shift.start, VehicleKind.VAN, 60.0,
        fixed_cost=fixed_cost, breaks=breaks,
    )


def pair(name: str, farm: Location, point: Location, kg: float = 50) -> tuple[Stop, Stop]:
    return (
        Stop(f"{name}-farm", StopKind.PICKUP, farm, DAY, kg),
        Stop(f"{name}-point", StopKind.DELIVERY, point, DAY, kg, source=f"{name}-farm"),
    )


def small_day(stops: int, seed: int) -> RoundsProblem:
    """A small product-shaped day: pairs, hub collections and deliveries, cold produce,
    vans with a break and volunteers' cars with fixed costs."""
    rng = random.Random(seed)
    hub = Hub("hub", at(1, 1), TimeWindow(420, 780), TimeWindow(780, 1080))
    made: list[Stop] = []
    k = 0
    while len(made) < stops:
        cold = rng.random() < 0.3
        kg = float(rng.randint(10, 90))
        start = rng.randint(420, 600)
        farm = Stop(f"f{k}", StopKind.PICKUP, at(rng.uniform(-15, 15), rng.uniform(-15, 15)),
                    TimeWindow(start, start + rng.choice([60, 180])), kg, cold)
        late = rng.randint(800, 960)
        point_at = at(rng.uniform(-6, 6), rng.uniform(-6, 6))
        shape = rng.random()
        if shape < 0.4:
            made += [farm, Stop(f"p{k}", StopKind.DELIVERY, point_at, TimeWindow(late, late + 120),
                                kg, cold, f"f{k}")]
        elif shape < 0.7:
            made.append(farm)
        else:
            made.append(Stop(f"p{k}", StopKind.DELIVERY, point_at, TimeWindow(late, late + 120),
                             kg, cold))
        k += 1
    vehicles = [
        Vehicle(f"van{v}", 600, True, hub.location, hub.location, TimeWindow(s, s + 480), 480,
                VehicleKind.REFRIGERATED_VAN, fixed_cost=40,
                breaks=(Break("pause", TimeWindow(s + 210, s + 330), 30),))
        for v, s in enumerate((420, 600, 480))
    ]
    for c in range(4):
        home = at(rng.uniform(-5, 5), rng.uniform(-5, 5))
        s = rng.choice([420, 480, 780, 840])
        vehicles.append(Vehicle(f"car{c}", 250, False, home, home, TimeWindow(s, s + 240), 240,
                                VehicleKind.CAR, fixed_cost=20))
    return RoundsProblem(tuple(made), tuple(vehicles), hub)


def checked(problem: RoundsProblem, time_limit: float = 0.5, **kwargs: object) -> set[str]:
    """Solve, check the plan independently, and return the served stops."""
    result = solve_rounds(problem, time_limit=time_limit, seed=0, **kwargs)  # type: ignore[arg-type]
    report = check_plan(problem, result_visits(result))
    assert report.feasible, report.violations
    unserved = {u.stop_id for u in result.unserved}
    assert report.served | unserved == {s.id for s in problem.stops}
    assert not report.served & unserved
    assert len(result.routes) == report.vehicles
    assert result.total_km == pytest.approx(report.km, abs=1e-3 * (1 + len(result.routes)))
    return report.served


# ------------------------------------------------------------------ the checker can fail
def test_checker_reports_capacity_order_cold_and_windows() -> None:
    """Wrong plans stated by hand are caught: over capacity, delivery before its pick-up,
    cold produce in a dry van, a window missed, a stop served twice."""
    a = pair("a", at(2), at(3), 400)
    b = pair("b", at(2.1), at(3.1), 300)
    cold = (Stop("c-farm", StopKind.PICKUP, at(1), DAY, 10, True),
            Stop("c-point", StopKind.DELIVERY, at(1.5), DAY, 10, True, "c-farm"))
    early = (Stop("e-farm", StopKind.PICKUP, at(30), TimeWindow(360, 365), 10),
             Stop("e-point", StopKind.DELIVERY, at(31), DAY, 10, source="e-farm"))
    problem = RoundsProblem(a + b + cold + early, (van("v1"), van("v2")), service=NO_SERVICE)
    P, D = VisitKind.PICKUP, VisitKind.DELIVERY

    def violations(*routes: tuple[str, list[tuple[VisitKind, str]]]) -> list[str]:
        return check_plan(problem, routes).violations

    good = violations(("v1", [(P, "a-farm"), (D, "a-point"), (P, "b-farm"), (D, "b-point")]))
    assert good == []
    assert any("load" in v for v in violations(
        ("v1", [(P, "a-farm"), (P, "b-farm"), (D, "a-point"), (D, "b-point")])))
    assert any("not after its pick-up" in v for v in violations(
        ("v1", [(D, "a-point"), (P, "a-farm")])))
    assert any("refrigerated" in v for v in violations(
        ("v1", [(P, "c-farm"), (D, "c-point")])))
    assert any("no schedule" in v for v in violations(
        ("v1", [(P, "e-farm"), (D, "e-point")])))
    assert any("twice" in v for v in violations(
        ("v1", [(P, "a-farm"), (D, "a-point")]), ("v2", [(P, "a-farm"), (D, "a-point")])))
    assert any("without its pick-up" in v for v in violations(("v1", [(P, "a-farm")])))


def test_checker_needs_room_for_the_break() -> None:
    """A 2 h shift with a 60 min break cannot hold 65 min of driving; 20 min fit."""
    brk = (Break("b", TimeWindow(360, 480), 60),)
    short = van("v", shift=TimeWindow(360, 480), breaks=brk)
    far = pair("far", at(25), at(25, 0.01))  # 2 x 25 km x 1.3 at 60 km/h: 65 min
    near = pair("near", at(7.5), at(7.5, 0.01))
    P, D = VisitKind.PICKUP, VisitKind.DELIVERY
    problem = RoundsProblem(far + near, (short,), service=NO_SERVICE)
    assert check_plan(problem, [("v", [(P, "near-farm"), (D, "near-point")])]).feasible
    assert not check_plan(problem, [("v", [(P, "far-farm"), (D, "far-point")])]).feasible
    unbroken = RoundsProblem(far + near, (van("v", shift=TimeWindow(360, 480)),),
                             service=NO_SERVICE)
    assert check_plan(unbroken, [("v", [(P, "far-farm"), (D, "far-point")])]).feasible


# ------------------------------------------------------------------ the solver's model
def test_breaks_are_planned_and_respected() -> None:
    """A round over 11:00-13:00 takes its 30 min break then, between two visits, and a pair
    that the break leaves no time for is reported instead of planned."""
    brk = Break("lunch", TimeWindow(660, 780), 30)
    morning, afternoon = TimeWindow(480, 660), TimeWindow(780, 840)
    stops = tuple(
        Stop(s.id, s.kind, s.location, morning if s.source is None else afternoon, s.kg,
             source=s.source)
        for s in pair("a", at(5), at(6)) + pair("b", at(-5), at(-6))
    )
    problem = RoundsProblem(stops, (van("v", breaks=(brk,)),), service=ServiceTime(10, 0))
    checked(problem)
    (route,) = solve_rounds(problem, time_limit=0.5, seed=0).routes
    (taken,) = route.breaks
    assert taken.break_id == "lunch"
    assert 660 <= taken.start_min
    assert taken.end_min <= 780
    for stop in route.stops:  # no service overlaps the break
        before = stop.departure_min <= taken.start_min + 1e-6
        assert before or stop.start_min >= taken.end_min - 1e-6
    # A 90 min shift with a 60 min break: a pair needing 42 min of driving does not fit.
    brk = Break("b", TimeWindow(600, 690), 60)
    tight = van("v", shift=TimeWindow(600, 690), breaks=(brk,))
    far = pair("far", at(16), at(16, 0.01))  # 42 min of driving
    assert not checked(RoundsProblem(far, (tight,), service=NO_SERVICE))
    result = solve_rounds(RoundsProblem(far, (tight,), service=NO_SERVICE), time_limit=0.5, seed=0)
    assert {u.reason for u in result.unserved} == {UnservedReason.WINDOW_UNREACHABLE}
    free = van("v", shift=TimeWindow(600, 690))
    assert checked(RoundsProblem(far, (free,), service=NO_SERVICE)) == {"far-farm", "far-point"}


def test_unused_vehicle_takes_no_break() -> None:
    """A van with a break and nothing to do stays home: no route, no break."""
    vans = (van("v1"), van("v2", breaks=(Break("b", TimeWindow(600, 700), 30),)))
    result = solve_rounds(RoundsProblem(pair("a", at(1), at(2)), vans, service=NO_SERVICE),
                          time_limit=0.5, seed=0)
    assert [r.vehicle_id for r in result.routes] == ["v1"]


@pytest.mark.parametrize("use_vroom", [True, False])
def test_fixed_cost_makes_fewer_rounds(use_vroom: bool) -> None:
    """Two vans, one north and one south, a pair near each: without a fixed cost each van
    takes its own pair; at 100 km per van, one van takes both (20 km more driving)."""
    north, south = at(5), at(-5)
    stops = pair("n", at(5.5), at(6)) + pair("s", at(-5.5), at(-6))
    for cost, rounds in ((0.0, 2), (100.0, 1)):
        vans = (van("vn", home=north, fixed_cost=cost), van("vs", home=south, fixed_cost=cost))
        problem = RoundsProblem(stops, vans, service=NO_SERVICE)
        result = solve_rounds(problem, time_limit=0.5, seed=0, use_vroom=use_vroom)
        assert result.status == "all_served"
        assert len(result.routes) == rounds, (cost, result.routes)


def test_waiting_counts_in_the_cost() -> None:
    """The point opens at 10:00: the round leaves late rather than wait there, since
    waiting lengthens the round and the round's duration costs."""
    stops = (
        Stop("f", StopKind.PICKUP, at(5), DAY, 10),
        Stop("p1", StopKind.DELIVERY, at(5, 5), TimeWindow(600, 1080), 10, source="f"),
    )
    problem = RoundsProblem(stops, (van("v"),), service=NO_SERVICE)
    (route,) = solve_rounds(problem, time_limit=0.5, seed=0).routes
    _, second = route.stops
    assert second.start_min == pytest.approx(600, abs=0.1)
    assert second.arrival_min == pytest.approx(600, abs=0.2)  # no waiting: left late
    assert route.duration_min < 30


# ------------------------------------------------------------------ re-insertion, fall-back
def insertable(problem: RoundsProblem, result: RoundsResult, stop_id: str) -> bool:
    """Whether the job of `stop_id` fits somewhere in the plan, by the independent check:
    every position of its visits in every round, and every idle vehicle."""
    stops = {s.id: s for s in problem.stops}
    stop = stops[stop_id]
    if stop.source is not None:
        first, second = (VisitKind.PICKUP, stop.source), (VisitKind.DELIVERY, stop_id)
    elif stop.kind is StopKind.DELIVERY:
        first, second = (VisitKind.HUB_LOAD, stop_id), (VisitKind.DELIVERY, stop_id)
    else:
        partner = next((s.id for s in problem.stops if s.source == stop_id), None)
        first = (VisitKind.PICKUP, stop_id)
        second = (VisitKind.DELIVERY, partner) if partner else (VisitKind.HUB_DROP, stop_id)
    plans = dict(result_visits(result))
    for vehicle in problem.vehicles:
        visits = plans.get(vehicle.id, [])
        for i in range(len(visits) + 1):
            for j in range(i, len(visits) + 1):
                trial = [*visits[:i], first, *visits[i:j], second, *visits[j:]]
                if check_plan(problem, [(vehicle.id, trial)]).feasible:
                    return True
    return False


@pytest.mark.parametrize("use_vroom", [True, False])
def test_tiny_budget_still_serves_every_stop_it_can(use_vroom: bool) -> None:
    """With 10 ms (no time for the searches) the plan still serves what fits: no stop left
    out could be added to a round or an idle vehicle (checked independently)."""
    problem = small_day(24, seed=5)
    result = solve_rounds(problem, time_limit=0.01, seed=0, use_vroom=use_vroom)
    report = check_plan(problem, result_visits(result))
    assert report.feasible, report.violations
    assert len(report.served) >= len(problem.stops) * 3 // 4
    for unserved in result.unserved:
        assert not insertable(problem, result, unserved.stop_id), unserved


def test_fleet_full_only_when_no_route_takes_the_stop() -> None:
    """A stop the search left out but that fits is taken by the re-insertion; stops that
    fit no route but one vehicle alone are 'fleet full'."""
    window = TimeWindow(400, 410)
    crowded = (
        pair("n", at(9), at(10))
        + pair("s", at(-9), at(-10))
    )
    crowded = tuple(
        Stop(s.id, s.kind, s.location, window if s.kind is StopKind.DELIVERY else DAY, s.kg,
             source=s.source)
        for s in crowded
    )
    problem = RoundsProblem(crowded, (van("v"),), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.01, seed=0, solution_limit=1)
    served = checked(problem, time_limit=0.01, solution_limit=1)
    assert len(served) == 2
    assert {u.reason for u in result.unserved} == {UnservedReason.FLEET_FULL}
    two = RoundsProblem(crowded, (van("v"), van("w")), service=NO_SERVICE)
    assert len(checked(two, time_limit=0.01, solution_limit=1)) == 4


# ------------------------------------------------------------------ the VROOM stage
@pytest.mark.skipif(not vroom_available(), reason="pyvroom not installed")
def test_vroom_start_keeps_the_model() -> None:
    """VROOM's own plan of a small day fits the OR-Tools model as it is (hub setups, cold
    chain, breaks), so the polish starts from all of it."""
    from baskets.optimizer.routing.insertion import route_fits

    problem = small_day(24, seed=5)
    built = build_model(problem)
    routes = vroom_routes(built, time_limit=2.0)
    assert routes is not None
    assert sum(map(len, routes)) >= len(problem.stops)  # hub flows add a visit each
    assert all(route_fits(built, v, route) for v, route in enumerate(routes))


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(6, 24), st.integers(0, 10_000))
def test_hybrid_plans_pass_the_independent_check(stops: int, seed: int) -> None:
    """On random small days the plan is feasible by the checker and every stop is served
    or reported."""
    checked(small_day(stops, seed), time_limit=0.3)


def test_problem_data_carries_fixed_costs_and_breaks() -> None:
    """A scenario's vehicles may give a fixed cost and breaks; a round over the break's
    window lists its break."""
    from baskets.optimizer.routing import problem_from_data, result_to_data
    from baskets.scenario import ScenarioError

    data = {
        "stops": [
            {"id": "f", "kind": "pickup", "at": [43.31, 5.40], "window": ["08:00", "12:00"],
             "kg": 20},
            {"id": "p", "kind": "delivery", "at": [43.32, 5.41], "window": ["13:00", "14:00"],
             "kg": 20, "source": "f"},
        ],
        "vehicles": [
            {"id": "v", "capacity_kg": 100, "start": [43.30, 5.40], "shift": ["08:00", "16:00"],
             "max_duration_min": 480, "fixed_cost": 25,
             "breaks": [{"id": "lunch", "window": ["12:00", "13:30"], "duration_min": 30}]},
        ],
    }
    problem = problem_from_data(data)
    (vehicle,) = problem.vehicles
    assert vehicle.fixed_cost == 25
    assert vehicle.breaks == (Break("lunch", TimeWindow(720, 810), 30),)
    out = result_to_data(solve_rounds(problem, time_limit=0.5, seed=0))
    ((taken,),) = [r["breaks"] for r in out["routes"]]
    assert taken["break_id"] == "lunch"
    assert 720 <= taken["start_min"] <= 780
    data["vehicles"][0]["breaks"][0]["duration_min"] = 120  # type: ignore[index]
    with pytest.raises(ScenarioError, match=r"vehicles\[0\].breaks\[0\]: break lunch"):
        problem_from_data(data)
