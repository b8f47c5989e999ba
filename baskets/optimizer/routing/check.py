"""An independent feasibility check of a rounds plan, from the problem's own definition.

It shares no code with the solvers: it re-reads a plan as ordered visits per vehicle (what
any solver, ours or a peer, can state), recomputes every time, load and distance from the
problem and a travel matrix, and lists what is wrong. Used by the benchmarks on every plan
and by the tests.

Conventions (the product's, stated once here): times in whole seconds, each arc's driving
time rounded to the second (from the matrix's minutes when it has them, except for cargo
bikes, else km / the vehicle's speed); service at a stop is ``fixed + per_kg x kg``; at the
hub each visit handles its kg and the fixed part is paid once per call, on arrival, before
the visit's service starts. Service starts within the visit's window (hub visits: the hub's
drop window for collected produce, its load window for produce to deliver). A vehicle
leaves its start and reaches its end within its shift, leaving as late as useful, and the
round lasts at most its maximum. Each break of a used vehicle lasts its duration wholly
within its window, between two visits' services (the vehicle may be on its way), or before
the vehicle leaves or after it is back (the driver is not at work then); the checker places
breaks itself. Paired produce rides from its pick-up to its delivery in one
vehicle; other pick-ups go to the hub in the vehicle that collected them; other deliveries
are loaded at the hub by the vehicle that delivers them. Refrigerated produce rides only in
refrigerated vehicles; the load never exceeds the capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations_with_replacement

import numpy as np

from baskets.optimizer.routing.distances import TravelMatrix, great_circle_matrix
from baskets.optimizer.routing.model import (
    Location,
    RoundsProblem,
    RoundsResult,
    StopKind,
    VehicleKind,
    VisitKind,
)

__all__ = ["PlanCheck", "check_plan", "result_visits"]

Visits = Sequence[tuple[VisitKind, str]]


@dataclass
class PlanCheck:
    """What the check found: violations (empty if the plan is feasible) and totals."""

    violations: list[str] = field(default_factory=list)
    served: set[str] = field(default_factory=set)
    vehicles: int = 0
    km: float = 0.0
    hours: float = 0.0

    @property
    def feasible(self) -> bool:
        """No violation found."""
        return not self.violations


def result_visits(result: RoundsResult) -> list[tuple[str, list[tuple[VisitKind, str]]]]:
    """A `RoundsResult` as ordered visits per vehicle (hub visits name their stop)."""
    return [
        (route.vehicle_id, [(s.kind, s.for_stop or s.stop_id) for s in route.stops])
        for route in result.routes
    ]


def _sec(minutes: float) -> int:
    return round(minutes * 60)


def check_plan(
    problem: RoundsProblem,
    routes: Iterable[tuple[str, Visits]],
    travel: Callable[[Sequence[Location]], TravelMatrix] | None = None,
) -> PlanCheck:
    """Check `routes` (vehicle id, ordered visits) against `problem`.

    Parameters
    ----------
    problem
        The problem the plan answers.
    routes
        Per used vehicle: (kind, stop id) per visit, in order; a hub visit names the stop
        whose produce it drops or loads.
    travel
        Travel-matrix source; great-circle x the problem's road factor by default.

    Returns
    -------
    PlanCheck
        Violations, served stops, vehicles used, km and hours (rounds' durations).
    """
    report = PlanCheck()
    stops = {s.id: s for s in problem.stops}
    vehicles = {v.id: v for v in problem.vehicles}
    delivery_of = {s.source: s.id for s in problem.stops if s.source is not None}
    hub = problem.hub
    places: list[Location] = [loc for v in problem.vehicles for loc in (v.start, v.end)]
    places += [s.location for s in problem.stops]
    if hub is not None:
        places.append(hub.location)
    unique = list(dict.fromkeys(places))
    where = {loc: i for i, loc in enumerate(unique)}
    source = travel or (lambda locs: great_circle_matrix(locs, problem.road_factor))
    matrix = source(unique)
    km = np.asarray(matrix.km, dtype=np.float64)
    minutes = None if matrix.minutes is None else np.asarray(matrix.minutes, dtype=np.float64)
    seen_vehicles: set[str] = set()
    done: dict[tuple[VisitKind, str], str] = {}
    for vehicle_id, visits in routes:
        visits = list(visits)
        if not visits:
            continue
        vehicle = vehicles.get(vehicle_id)
        if vehicle is None:
            report.violations.append(f"unknown vehicle {vehicle_id}")
            continue
        if vehicle_id in seen_vehicles:
            report.violations.append(f"vehicle {vehicle_id} has two rounds")
        seen_vehicles.add(vehicle_id)
        report.vehicles += 1
        problems = report.violations
        # Places, service seconds, windows and load changes of the visits.
        path = [where[vehicle.start]]
        service: list[int] = [0]
        windows: list[tuple[int, int]] = [(_sec(vehicle.shift.start), _sec(vehicle.shift.end))]
        load = 0.0
        order: dict[tuple[VisitKind, str], int] = {}
        for k, (kind, stop_id) in enumerate(visits):
            stop = stops.get(stop_id)
            if stop is None:
                problems.append(f"{vehicle_id}: unknown stop {stop_id}")
                return report
            if (kind, stop_id) in done or (kind, stop_id) in order:
                problems.append(f"{stop_id}: {kind.value} visited twice")
            order[(kind, stop_id)] = k
            done[(kind, stop_id)] = vehicle_id
            per_kg = problem.service.per_kg_min * stop.kg
            if kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD):
                if hub is None:
                    problems.append(f"{stop_id}: hub visit without a hub")
                    return report
                expected = StopKind.PICKUP if kind is VisitKind.HUB_DROP else StopKind.DELIVERY
                routed = stop_id in delivery_of or stop.source is not None
                if stop.kind is not expected or routed:
                    problems.append(f"{stop_id}: {kind.value} for a stop that does not use the hub")
                path.append(where[hub.location])
                service.append(_sec(per_kg))
                window = hub.drop_window if kind is VisitKind.HUB_DROP else hub.load_window
                load += stop.kg if kind is VisitKind.HUB_LOAD else -stop.kg
            else:
                expected = StopKind.PICKUP if kind is VisitKind.PICKUP else StopKind.DELIVERY
                if stop.kind is not expected or kind not in (VisitKind.PICKUP, VisitKind.DELIVERY):
                    problems.append(f"{stop_id}: visited as {kind.value}, is a {stop.kind.value}")
                path.append(where[stop.location])
                service.append(_sec(problem.service.minutes(stop.kg)))
                window = stop.window
                load += stop.kg if kind is VisitKind.PICKUP else -stop.kg
                report.served.add(stop_id)
            windows.append((_sec(window.start), _sec(window.end)))
            if load > vehicle.capacity_kg + 1e-6 or load < -1e-6:
                problems.append(f"{vehicle_id}: load {load:.1f} kg after {stop_id}")
            cold = (
                stop.refrigerated
                or (stop.source is not None and stops[stop.source].refrigerated)
                or (stop_id in delivery_of and stops[delivery_of[stop_id]].refrigerated)
            )
            if cold and not vehicle.refrigerated:
                problems.append(f"{stop_id}: refrigerated produce in {vehicle_id}")
        path.append(where[vehicle.end])
        service.append(0)
        windows.append(windows[0])
        # Pairing, in this vehicle and in order.
        for (kind, stop_id), k in order.items():
            stop = stops[stop_id]
            if kind is VisitKind.DELIVERY and stop.source is not None:
                before = order.get((VisitKind.PICKUP, stop.source))
                if before is None or before > k:
                    problems.append(
                        f"{stop_id}: not after its pick-up {stop.source} in one vehicle"
                    )
            elif kind is VisitKind.DELIVERY:
                before = order.get((VisitKind.HUB_LOAD, stop_id))
                if before is None or before > k:
                    problems.append(f"{stop_id}: not loaded at the hub before, in one vehicle")
            elif kind is VisitKind.PICKUP and stop_id not in delivery_of:
                after = order.get((VisitKind.HUB_DROP, stop_id))
                if after is None or after < k:
                    problems.append(f"{stop_id}: not dropped at the hub after, in one vehicle")
            elif kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD):
                partner = VisitKind.PICKUP if kind is VisitKind.HUB_DROP else VisitKind.DELIVERY
                if (partner, stop_id) not in order:
                    problems.append(f"{stop_id}: hub visit without its stop in {vehicle_id}")
        # Seconds between consecutive places, for this vehicle.
        arcs = [(path[i - 1], path[i]) for i in range(1, len(path))]
        report.km += sum(float(km[a, b]) for a, b in arcs)
        uses_minutes = minutes is not None and vehicle.kind is not VehicleKind.CARGO_BIKE
        drive = [
            round(float(minutes[a, b]) * 60)
            if uses_minutes and minutes is not None
            else round(float(km[a, b]) / vehicle.speed * 3600)
            for a, b in arcs
        ]
        at_hub = [False] + [kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD) for kind, _ in visits]
        at_hub.append(False)
        setup = [
            _sec(problem.service.fixed_min) if at_hub[i] and not at_hub[i - 1] else 0
            for i in range(1, len(path))
        ]
        breaks = sorted(
            (_sec(b.window.start), _sec(b.window.end), _sec(b.duration_min)) for b in vehicle.breaks
        )
        duration = _shortest_round(
            _Round(service, windows, drive, setup, breaks), vehicle.max_duration_min
        )
        if duration is None:
            problems.append(
                f"{vehicle_id}: no schedule keeps the windows, shift, breaks and "
                f"{vehicle.max_duration_min:.0f} min maximum"
            )
        else:
            report.hours += duration / 3600
    # Every stop that is served is served whole: a hub flow needs both its visits.
    for stop in problem.stops:
        own = VisitKind.PICKUP if stop.kind is StopKind.PICKUP else VisitKind.DELIVERY
        uses_hub = stop.source is None and stop.id not in delivery_of
        if uses_hub and (own, stop.id) in done:
            partner = VisitKind.HUB_DROP if stop.kind is StopKind.PICKUP else VisitKind.HUB_LOAD
            if (partner, stop.id) not in done:
                report.violations.append(f"{stop.id}: its hub visit is missing")
        if stop.source is not None and ((own, stop.id) in done) != (
            (VisitKind.PICKUP, stop.source) in done
        ):
            report.violations.append(f"{stop.id}: served without its pick-up or the reverse")
    return report


@dataclass(frozen=True)
class _Round:
    """A round's seconds: service per place (start first, end last), windows, driving and
    hub setup per arc, breaks as (window start, window end, length)."""

    service: Sequence[int]
    windows: Sequence[tuple[int, int]]
    drive: Sequence[int]
    setup: Sequence[int]
    breaks: Sequence[tuple[int, int, int]]


def _finish(round_: _Round, places: Sequence[int], depart: int) -> int | None:
    """Arrival at the end leaving at `depart`, break k between visits ``places[k]-1`` and
    ``places[k]`` (0: before leaving, ``len(windows)``: after coming back); None if a window
    or a break cannot be kept."""
    service, windows, drive, setup = round_.service, round_.windows, round_.drive, round_.setup
    breaks = round_.breaks
    clock = depart
    b = 0
    while b < len(breaks) and places[b] == 0:
        lo, hi, length = breaks[b]
        if lo + length > depart or lo > hi - length:
            return None
        b += 1
    for i in range(1, len(windows)):
        leave = clock + service[i - 1]
        way = drive[i - 1] + setup[i - 1]
        while b < len(breaks) and places[b] == i:
            lo, hi, length = breaks[b]
            # The break starts when the way is done, or earlier to end within its window.
            begin = min(max(leave + way, lo), hi - length)
            if begin < max(leave, lo):
                return None
            way = max(0, leave + way - begin)
            leave = begin + length
            b += 1
        arrive = leave + way
        lo, hi = windows[i]
        if i == len(windows) - 1:
            if arrive > hi:
                return None
            # Breaks after coming back: the shift is over unless one must start by then.
            if any(arrive > high - length for _, high, length in breaks[b:]):
                return None
            return arrive
        clock = max(arrive, lo)
        if clock > hi:
            return None
    return clock


def _shortest_round(round_: _Round, max_minutes: float) -> int | None:
    """Seconds of the shortest feasible round within the maximum, or None.

    A break may also fall before the vehicle leaves or after it is back (the driver is
    not at work then); in the round, it lengthens the round."""
    windows, breaks = round_.windows, round_.breaks
    shift_start, shift_end = windows[0]
    best: int | None = None
    for places in combinations_with_replacement(range(len(windows) + 1), len(breaks)):
        earliest = max(
            [shift_start]
            + [lo + length for (lo, _, length), at in zip(breaks, places, strict=True) if at == 0]
        )
        end = _finish(round_, places, earliest)
        if end is None:
            continue
        low, high = earliest, shift_end + 1  # feasible at low, not at high
        while high - low > 1:
            middle = (low + high) // 2
            if _finish(round_, places, middle) is None:
                high = middle
            else:
                low = middle
        latest = _finish(round_, places, low)
        assert latest is not None
        length = latest - low
        if best is None or length < best:
            best = length
    if best is None or best > _sec(max_minutes):
        return None
    return best
