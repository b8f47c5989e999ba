"""Round planner: hand-checkable instances, drop reasons, re-planning and invariants."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from geopy.distance import great_circle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baskets.optimizer.routing import (
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
    replan_without_vehicle,
    solve_rounds,
)
from baskets.optimizer.routing.jsonio import problem_from_data, read_problem, result_to_data
from baskets.scenario import ScenarioError

DEPOT = Location(43.30, 5.40)
DAY = TimeWindow(360, 1080)  # 06:00-18:00 in minutes
NO_SERVICE = ServiceTime(fixed_min=0, per_kg_min=0)


def at(km_north: float, km_east: float = 0.0) -> Location:
    """A point `km_north` km north and `km_east` km east of the depot (approximately)."""
    return Location(
        DEPOT.lat + km_north / 111.195,
        DEPOT.lon + km_east / (111.195 * math.cos(math.radians(DEPOT.lat))),
    )


def van(
    vid: str = "van",
    capacity: float = 500,
    *,
    cold: bool = False,
    shift: TimeWindow = DAY,
    max_minutes: float = 600,
    speed: float = 60.0,
) -> Vehicle:
    return Vehicle(vid, capacity, cold, DEPOT, DEPOT, shift, max_minutes, VehicleKind.VAN, speed)


def pair(
    name: str,
    farm: Location,
    point: Location,
    kg: float,
    *,
    cold: bool = False,
    farm_window: TimeWindow = DAY,
    point_window: TimeWindow = DAY,
) -> tuple[Stop, Stop]:
    return (
        Stop(f"{name}-farm", StopKind.PICKUP, farm, farm_window, kg, cold),
        Stop(f"{name}-point", StopKind.DELIVERY, point, point_window, kg, cold, f"{name}-farm"),
    )


def check_invariants(problem: RoundsProblem, result: RoundsResult) -> None:
    """Independent check of everything a plan must respect."""
    stops = {s.id: s for s in problem.stops}
    vehicles = {v.id: v for v in problem.vehicles}
    served: list[str] = []
    eps = 1e-6
    for route in result.routes:
        veh = vehicles[route.vehicle_id]
        assert veh.shift.start - eps <= route.start_min
        assert route.end_min <= veh.shift.end + eps
        assert route.duration_min <= veh.max_duration_min + eps
        position: dict[str, int] = {}
        load = 0.0
        clock = route.start_min
        for k, visit in enumerate(route.stops):
            assert visit.arrival_min >= clock - eps
            assert visit.start_min >= visit.arrival_min - eps
            if visit.kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD):
                assert problem.hub is not None
                stop = stops[visit.for_stop or ""]
                window = (
                    problem.hub.drop_window
                    if visit.kind is VisitKind.HUB_DROP
                    else problem.hub.load_window
                )
                load += stop.kg if visit.kind is VisitKind.HUB_LOAD else -stop.kg
                position[f"hub:{stop.id}"] = k
            else:
                stop = stops[visit.stop_id]
                window = stop.window
                served.append(stop.id)
                load += stop.kg if stop.kind is StopKind.PICKUP else -stop.kg
                position[stop.id] = k
            assert window.start - eps <= visit.start_min <= window.end + eps
            assert visit.load_kg == pytest.approx(load, abs=1e-3)
            assert -1e-3 <= load <= veh.capacity_kg + 1e-3
            if stop.refrigerated:
                assert veh.refrigerated, f"{stop.id} needs a refrigerated vehicle"
            clock = visit.departure_min
        assert load == pytest.approx(0.0, abs=1e-3)
        for stop_id, k in position.items():
            stop = stops.get(stop_id)
            if stop is not None and stop.source is not None:
                assert position[stop.source] < k, "pick-up before its delivery, same vehicle"
            if stop is not None and stop.source is None and stop.kind is StopKind.DELIVERY:
                assert position[f"hub:{stop_id}"] < k
            if stop is not None and stop.kind is StopKind.PICKUP and f"hub:{stop_id}" in position:
                assert k < position[f"hub:{stop_id}"]
    unserved = [u.stop_id for u in result.unserved]
    assert sorted(served + unserved) == sorted(stops), "every stop served once or reported"


def test_single_pair_hand_checked() -> None:
    """Depot -> farm 10 km north -> point 5 km north -> depot: 20 km x 1.3, pick-up first."""
    farm, point = at(10), at(5)
    problem = RoundsProblem(pair("a", farm, point, 100), (van(),), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    (route,) = result.routes
    assert [s.stop_id for s in route.stops] == ["a-farm", "a-point"]
    assert [s.load_kg for s in route.stops] == [100, 0]
    leg = great_circle((DEPOT.lat, DEPOT.lon), (farm.lat, farm.lon)).km
    assert route.km == pytest.approx(2 * leg * 1.3, rel=1e-3)
    assert route.duration_min == pytest.approx(2 * leg * 1.3, abs=0.05)  # 60 km/h
    assert result.unserved == ()


def test_service_time_grows_with_kg() -> None:
    """5 min + 0.1 min/kg: 200 kg take 25 min at the farm and 25 at the point."""
    problem = RoundsProblem(pair("a", at(3), at(3, 1), 200), (van(),), service=ServiceTime(5, 0.1))
    (route,) = solve_rounds(problem, time_limit=0.5, seed=0).routes
    farm, point = route.stops
    assert farm.departure_min - farm.start_min == pytest.approx(25)
    assert point.departure_min - point.start_min == pytest.approx(25)


def test_fewest_vehicles_first() -> None:
    """Two small pairs fit one van: one route, though two vans are free."""
    stops = pair("a", at(2), at(3), 50) + pair("b", at(-2), at(-3), 50)
    problem = RoundsProblem(stops, (van("v1"), van("v2")), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert len(result.routes) == 1


def test_capacity_splits_pairs_over_two_vans() -> None:
    """Two 300 kg loads riding together would need 600 kg: a 400 kg van carries them one at
    a time or two vans are used, never over capacity."""
    stops = pair("a", at(2), at(3), 300) + pair("b", at(2.1), at(3.1), 300)
    problem = RoundsProblem(stops, (van("v1", 400), van("v2", 400)), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert result.unserved == ()


def test_refrigerated_produce_rides_the_refrigerated_van() -> None:
    """The cold pair goes in the cold van even though the car is as close."""
    stops = pair("cold", at(2), at(4), 50, cold=True) + pair("dry", at(-2), at(-4), 50)
    vehicles = (van("car"), van("cold", cold=True))
    problem = RoundsProblem(stops, vehicles, service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    carrier = {s.stop_id: r.vehicle_id for r in result.routes for s in r.stops}
    assert carrier["cold-farm"] == "cold"


def test_reason_window_too_early_for_any_vehicle() -> None:
    """A point closing at 06:05, 30 km away from vans leaving at 06:00, is unreachable."""
    stops = pair("late", at(1), at(30), 10, point_window=TimeWindow(360, 365))
    problem = RoundsProblem(stops, (van(),), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert {u.reason for u in result.unserved} == {UnservedReason.WINDOW_UNREACHABLE}
    assert {u.stop_id for u in result.unserved} == {"late-farm", "late-point"}
    assert all(u.message_fr and u.message_en for u in result.unserved)


def test_reason_no_refrigerated_vehicle() -> None:
    """Perishables with only dry vehicles are reported, the rest is served."""
    stops = pair("cold", at(2), at(4), 50, cold=True) + pair("dry", at(-2), at(-4), 50)
    problem = RoundsProblem(stops, (van(),), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert {(u.stop_id, u.reason) for u in result.unserved} == {
        ("cold-farm", UnservedReason.NO_REFRIGERATED_VEHICLE),
        ("cold-point", UnservedReason.NO_REFRIGERATED_VEHICLE),
    }


def test_reason_capacity() -> None:
    """A 900 kg lot exceeds every vehicle (500 kg)."""
    stops = pair("big", at(2), at(4), 900) + pair("ok", at(1), at(2), 100)
    problem = RoundsProblem(stops, (van(), van("v2")), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert {u.reason for u in result.unserved} == {UnservedReason.CAPACITY}


def test_reason_fleet_full() -> None:
    """Three points 10 km out in three directions, all open 06:40-06:50: one van serves one."""
    window = TimeWindow(400, 410)
    stops = (
        pair("n", at(9), at(10), 100, point_window=window)
        + pair("s", at(-9), at(-10), 100, point_window=window)
        + pair("e", at(0, 9), at(0, 10), 100, point_window=window)
    )
    problem = RoundsProblem(stops, (van(),), service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    assert len(result.routes[0].stops) == 2
    assert len(result.unserved) == 4
    assert {u.reason for u in result.unserved} == {UnservedReason.FLEET_FULL}


def test_max_duration_is_kept() -> None:
    """A 60-minute cap forbids a 2 x 40 km trip at 60 km/h: the pair is unreachable."""
    problem = RoundsProblem(
        pair("far", at(40), at(40.1), 10), (van(max_minutes=60),), service=NO_SERVICE
    )
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    assert result.routes == ()
    assert {u.reason for u in result.unserved} == {UnservedReason.WINDOW_UNREACHABLE}


def test_hub_collection_then_delivery() -> None:
    """A farm lot goes to the hub; a point is loaded from the hub after sorting (09:00)."""
    hub = Hub("hub", at(1), TimeWindow(360, 540), TimeWindow(540, 900))
    stops = (
        Stop("farm", StopKind.PICKUP, at(5), DAY, 80),
        Stop("point", StopKind.DELIVERY, at(-5), TimeWindow(540, 720), 60),
    )
    problem = RoundsProblem(stops, (van(),), hub=hub, service=NO_SERVICE)
    result = solve_rounds(problem, time_limit=0.5, seed=0)
    check_invariants(problem, result)
    visits = [(s.kind, s.for_stop or s.stop_id) for r in result.routes for s in r.stops]
    assert visits.index((VisitKind.PICKUP, "farm")) < visits.index((VisitKind.HUB_DROP, "farm"))
    assert visits.index((VisitKind.HUB_LOAD, "point")) < visits.index((VisitKind.DELIVERY, "point"))
    load = next(s for r in result.routes for s in r.stops if s.kind is VisitKind.HUB_LOAD)
    assert load.start_min >= 540


def test_unpaired_stop_without_hub_is_rejected() -> None:
    """A delivery with no source needs a hub."""
    with pytest.raises(ValueError, match="no hub"):
        RoundsProblem((Stop("p", StopKind.DELIVERY, at(1), DAY, 5),), (van(),))


def test_replan_keeps_other_rounds() -> None:
    """When v2 drops out, v1 keeps its stops in order and takes v2's pair if it fits."""
    north = pair("n", at(9), at(10), 100, point_window=TimeWindow(380, 385))
    south = pair("s", at(-9), at(-10), 100, point_window=TimeWindow(380, 385))
    problem = RoundsProblem(north + south, (van("v1"), van("v2")), service=NO_SERVICE)
    before = solve_rounds(problem, time_limit=0.5, seed=0)
    assert len(before.routes) == 2  # the windows force one van per side
    lost = next(r for r in before.routes if r.vehicle_id == "v2")
    kept = next(r for r in before.routes if r.vehicle_id == "v1")
    after = replan_without_vehicle(problem, before, "v2", time_limit=0.5, seed=0)
    (route,) = after.routes
    assert route.vehicle_id == "v1"
    assert [s.stop_id for s in route.stops] == [s.stop_id for s in kept.stops]
    assert {u.stop_id for u in after.unserved} == {s.stop_id for s in lost.stops}
    assert {u.reason for u in after.unserved} == {UnservedReason.FLEET_FULL}


def test_replan_inserts_the_lost_stops() -> None:
    """With loose windows, the remaining van takes the lost van's pair after its own."""
    stops = pair("a", at(2), at(3), 300) + pair("b", at(-2), at(-3), 300)
    problem = RoundsProblem(stops, (van("v1", 400), van("v2", 400)), service=NO_SERVICE)
    before = solve_rounds(problem, time_limit=0.5, seed=0)
    assert len(before.routes) == 1 or all(r.stops for r in before.routes)
    gone = before.routes[-1].vehicle_id
    keeper = "v1" if gone == "v2" else "v2"
    after = replan_without_vehicle(problem, before, gone, time_limit=0.5, seed=0)
    check_invariants(problem, after)
    assert after.unserved == ()
    assert {r.vehicle_id for r in after.routes} == {keeper}


def test_same_seed_and_limits_same_answer() -> None:
    """With a solution limit the plan is identical from run to run."""
    stops = tuple(
        s for k in range(6) for s in pair(f"p{k}", at(k - 3, 2), at(3 - k, -2), 40 + 10 * k)
    )
    problem = RoundsProblem(stops, (van("v1"), van("v2", 300)), service=ServiceTime())
    first = solve_rounds(problem, time_limit=5, seed=7, solution_limit=50)
    second = solve_rounds(problem, time_limit=5, seed=7, solution_limit=50)
    assert first.routes == second.routes


@st.composite
def problems(draw: st.DrawFn) -> RoundsProblem:
    n_pairs = draw(st.integers(1, 5))
    n_hub = draw(st.integers(0, 3))
    coord = st.floats(-15, 15, allow_nan=False)

    def window() -> TimeWindow:
        start = draw(st.integers(360, 900))
        return TimeWindow(start, start + draw(st.integers(10, 300)))

    stops: list[Stop] = []
    for k in range(n_pairs):
        stops += pair(
            f"p{k}",
            at(draw(coord), draw(coord)),
            at(draw(coord), draw(coord)),
            draw(st.integers(0, 400)),
            cold=draw(st.booleans()),
            farm_window=window(),
            point_window=window(),
        )
    for k in range(n_hub):
        kind = draw(st.sampled_from([StopKind.PICKUP, StopKind.DELIVERY]))
        stops.append(
            Stop(
                f"h{k}",
                kind,
                at(draw(coord), draw(coord)),
                window(),
                draw(st.integers(0, 300)),
                draw(st.booleans()),
            )
        )
    hub = Hub("hub", at(0.5), TimeWindow(360, 720), TimeWindow(600, 1080)) if n_hub else None
    vehicles = tuple(
        van(
            f"v{k}",
            draw(st.integers(50, 600)),
            cold=draw(st.booleans()),
            max_minutes=draw(st.integers(60, 600)),
            speed=draw(st.sampled_from([14.0, 35.0, 60.0])),
        )
        for k in range(draw(st.integers(1, 3)))
    )
    return RoundsProblem(tuple(stops), vehicles, hub=hub)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(problems())
def test_invariants_hold_on_random_problems(problem: RoundsProblem) -> None:
    """Served once or reported; capacity, windows, shifts, order and cold chain kept."""
    result = solve_rounds(problem, time_limit=0.3, seed=0, solution_limit=30)
    check_invariants(problem, result)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(problems())
def test_replan_invariants_on_random_problems(problem: RoundsProblem) -> None:
    """After losing a vehicle: invariants hold and every kept stop stays with its vehicle."""
    before = solve_rounds(problem, time_limit=0.3, seed=0, solution_limit=30)
    gone = problem.vehicles[0].id
    after = replan_without_vehicle(problem, before, gone, time_limit=0.3, seed=0, solution_limit=30)
    reduced = RoundsProblem(
        problem.stops, problem.vehicles[1:], problem.hub, problem.service, problem.road_factor
    )
    check_invariants(reduced, after)
    carrier_before = {(s.stop_id, s.for_stop): r.vehicle_id for r in before.routes for s in r.stops}
    for route in after.routes:
        for stop in route.stops:
            was = carrier_before.get((stop.stop_id, stop.for_stop))
            assert was in (None, gone, route.vehicle_id)


def test_no_vehicle_at_all() -> None:
    """Without vehicles every stop is reported as the fleet being full."""
    problem = RoundsProblem(pair("a", at(1), at(2), 10), ())
    result = solve_rounds(problem, time_limit=0.2, seed=0)
    assert result.routes == ()
    assert {u.reason for u in result.unserved} == {UnservedReason.FLEET_FULL}


FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "solver" / "routing_marseille.json"


def test_marseille_fixture_all_served() -> None:
    """The sample territory (hub, 5 farms, 6 points, 4 vehicles) is fully served."""
    problem = read_problem(FIXTURE)
    result = solve_rounds(problem, time_limit=1, seed=0)
    check_invariants(problem, result)
    assert result.status == "all_served"
    data = result_to_data(result)
    assert json.loads(json.dumps(data)) == data
    cold = {
        s["stop_id"] for r in data["routes"] if r["vehicle_id"] == "van-frigo" for s in r["stops"]
    }
    assert {"oeufs-allauch", "fromagerie-accates", "cs-air-bel"} <= cold


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vehicles": []}, "missing 'stops'"),
        ({"stops": [{"id": "a"}], "vehicles": []}, r"stops\[0\]: missing 'kind'"),
        (
            {
                "stops": [
                    {"id": "a", "kind": "pickup", "at": [43, 5], "window": ["9h", "10:00"], "kg": 1}
                ],
                "vehicles": [],
            },
            r"stops\[0\].window: expected minutes or 'HH:MM'",
        ),
        (
            {
                "stops": [{"id": "a", "kind": "pickup", "at": [43, 5], "window": [0, 10], "kg": 1}],
                "vehicles": [],
            },
            "not paired and there is no hub",
        ),
        (
            {"stops": [], "vehicles": [{"id": "v", "kind": "truck"}]},
            r"vehicles\[0\].kind: expected one of",
        ),
    ],
)
def test_bad_problem_data_raises_scenario_error(data: object, message: str) -> None:
    """Malformed problem data names the wrong field."""
    with pytest.raises(ScenarioError, match=message):
        problem_from_data(data)
