"""Exact route checks on the built model's integer data, and cheapest re-insertion of jobs.

The search may leave a servable job out (time ran out, or the local search did not find the
move). Before such a job is reported "fleet full", `insert_jobs` tries it at every position
of every route (empty vehicles included); the plan takes it where it fits at least cost.

The check follows the OR-Tools model exactly: transit = service of the origin + driving (+
the hub's fixed service when entering the hub), service starts within the visit's window,
the vehicle leaves and returns within its shift, the round (leaving as late as useful) lasts
at most the vehicle's maximum, the load stays within capacity, and each break of a used
vehicle is taken between two visits (possibly on the way), or before leaving or after coming
back (the driver is not at work then), starting within its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

from baskets.optimizer.routing.model import UnservedReason
from baskets.optimizer.routing.objective import DURATION_COST

if TYPE_CHECKING:
    from baskets.optimizer.routing.solve import BuiltModel

__all__ = ["fitting_routes", "insert_jobs", "route_fits"]

# Full checks tried per job before it is reported "fleet full": each is exact, and the
# candidates come cheapest first, so the bound is only reached on hopeless jobs.
_MAX_FULL_CHECKS = 500


def _end_time(
    built: BuiltModel, v: int, path: Sequence[int], depart: int, arcs: Sequence[int]
) -> int | None:
    """Arrival at the end of `path` leaving at `depart`, break k taken on arc ``arcs[k]``
    (arc i goes from ``path[i-1]`` to ``path[i]``; 0: before leaving, ``len(path)``: after
    coming back); None if a window or a break is missed."""
    seconds, service = built.seconds[v], built.service_s
    earliest, latest = built.earliest, built.latest
    breaks = built.breaks[v]
    clock = depart
    b = 0
    while b < len(breaks) and arcs[b] == 0:
        _, lo, hi, duration = breaks[b]
        if lo + duration > depart:
            return None
        b += 1
    for i in range(1, len(path)):
        a, node = path[i - 1], path[i]
        leave = clock + service[a]
        travel = seconds[a][node] - service[a]
        while b < len(breaks) and arcs[b] == i:
            _, lo, hi, duration = breaks[b]
            # Start the break once the travel is done if the window allows, else as late as
            # it allows (interrupting the travel), never before leaving.
            begin = min(max(leave + travel, lo), hi)
            if begin < max(leave, lo):
                return None
            travel = max(0, leave + travel - begin)
            leave = begin + duration
            b += 1
        clock = max(leave + travel, earliest[node])
        if clock > latest[node]:
            return None
    # Breaks after coming back must still be able to start.
    if any(clock > hi for _, _, hi, _ in breaks[b:]):
        return None
    return clock


def _break_arcs(built: BuiltModel, v: int, path: Sequence[int]) -> list[int]:
    """Where a break may go: before leaving, after coming back, and the arcs whose earliest
    departure and latest arrival (breaks left out, which only delay) leave room for one."""
    seconds, service = built.seconds[v], built.service_s
    soonest = [built.earliest[path[0]]]
    for k in range(1, len(path)):
        ready = soonest[-1] + seconds[path[k - 1]][path[k]]
        soonest.append(max(built.earliest[path[k]], ready))
    lateness = [built.latest[path[-1]]] * len(path)
    for k in range(len(path) - 2, -1, -1):
        lateness[k] = min(built.latest[path[k]], lateness[k + 1] - seconds[path[k]][path[k + 1]])
    arcs = [0]
    for i in range(1, len(path)):
        leave = soonest[i - 1] + service[path[i - 1]]
        if any(
            max(leave, lo) <= hi and max(leave, lo) + duration <= lateness[i]
            for _, lo, hi, duration in built.breaks[v]
        ):
            arcs.append(i)
    arcs.append(len(path))
    return arcs


def _times_fit(built: BuiltModel, v: int, path: Sequence[int]) -> bool:
    """Windows, shift, breaks and maximum duration of `path` (start and end included)."""
    lo, hi = built.earliest[path[0]], built.latest[path[0]]
    span = built.max_span_s[v]
    breaks = built.breaks[v]
    n_breaks = len(breaks) if len(path) > 2 else 0
    for arcs in combinations_with_replacement(_break_arcs(built, v, path), n_breaks):
        first = max(
            [lo] + [b[1] + b[3] for b, at in zip(breaks[:n_breaks], arcs, strict=True) if at == 0]
        )
        end = _end_time(built, v, path, first, arcs)
        if end is None:
            continue
        if end - first <= span:
            return True
        # Leaving later only removes waiting: find the latest departure that still fits.
        good, bad = first, hi + 1
        while bad - good > 1:
            middle = (good + bad) // 2
            if _end_time(built, v, path, middle, arcs) is None:
                bad = middle
            else:
                good = middle
        later = _end_time(built, v, path, good, arcs)
        if later is not None and later - good <= span:
            return True
    return False


def route_fits(built: BuiltModel, v: int, nodes: Sequence[int]) -> bool:
    """Whether vehicle `v` can drive the visits `nodes` in this order under the model."""
    if not nodes:
        return True
    veh = built.vehicles[v]
    load = 0
    for node in nodes:
        load += built.grams[node]
        if load > built.capacity_g[v] or load < 0:
            return False
        if not veh.refrigerated and built.jobs[built.visits[node - built.base].job].refrigerated:
            return False
    return _times_fit(built, v, [2 * v, *nodes, 2 * v + 1])


def fitting_routes(built: BuiltModel, routes: Sequence[Sequence[int]]) -> list[list[int]]:
    """`routes` with whole jobs only, each route cut back (last jobs first) until it fits."""
    fitted: list[list[int]] = []
    for v, route in enumerate(routes):
        count: dict[int, int] = {}
        for node in route:
            job = built.visits[node - built.base].job
            count[job] = count.get(job, 0) + 1
        nodes = [
            node
            for node in route
            if count[built.visits[node - built.base].job] == 2
            and built.visits[node - built.base].job not in built.excluded
        ]
        while nodes and not route_fits(built, v, nodes):
            last = built.visits[nodes[-1] - built.base].job
            nodes = [node for node in nodes if built.visits[node - built.base].job != last]
        fitted.append(nodes)
    return fitted


def _candidates(
    built: BuiltModel, v: int, route: Sequence[int], first: int, second: int, grams: int
) -> list[tuple[int, int, int]]:
    """(cost, i, j) for inserting `first` before ``route[i]`` and `second` before
    ``route[j]`` (j >= i), for every pair of positions that passes the windows and capacity
    of a relaxation (no breaks, no maximum duration): a pair it rejects cannot fit."""
    seconds, metres = built.seconds[v], built.metres
    earliest, latest = built.earliest, built.latest
    path = [2 * v, *route, 2 * v + 1]
    soonest = [earliest[path[0]]]
    for k in range(1, len(path)):
        soonest.append(max(earliest[path[k]], soonest[-1] + seconds[path[k - 1]][path[k]]))
    lateness = [latest[path[-1]]] * len(path)
    for k in range(len(path) - 2, -1, -1):
        lateness[k] = min(latest[path[k]], lateness[k + 1] - seconds[path[k]][path[k + 1]])
    if any(s > late for s, late in zip(soonest, lateness, strict=True)):
        return []  # the route itself does not fit: take nothing more
    carried = [0]
    for node in path[1:]:
        carried.append(carried[-1] + built.grams[node])
    capacity = built.capacity_g[v]
    found: list[tuple[int, int, int]] = []
    for i in range(len(path) - 1):
        before, after = path[i], path[i + 1]
        if carried[i] + grams > capacity:
            continue
        at_first = max(earliest[first], soonest[i] + seconds[before][first])
        if at_first > latest[first]:
            continue
        added_first = metres[before][first] - metres[before][after]
        clock, previous = at_first, first
        for j in range(i, len(path) - 1):
            if j > i:
                middle = path[j]
                clock = max(earliest[middle], clock + seconds[previous][middle])
                if clock > latest[middle] or carried[j] + grams > capacity:
                    break
                previous = middle
            at_second = max(earliest[second], clock + seconds[previous][second])
            following = path[j + 1]
            if (
                at_second > latest[second]
                or at_second + seconds[second][following] > lateness[j + 1]
            ):
                continue
            if j == i:
                added = metres[before][first] + metres[first][second] + metres[second][after]
                added -= metres[before][after]
                waited = seconds[before][first] + seconds[first][second] + seconds[second][after]
                waited -= seconds[before][after]
            else:
                added = added_first + metres[first][after]
                added += metres[path[j]][second] + metres[second][following]
                added -= metres[path[j]][following]
                waited = 0
            found.append((added + DURATION_COST * waited, i, j))
    if not route:
        # An empty vehicle comes out for this job alone: it pays its fixed cost.
        found = [(cost + built.fixed_cost[v], i, j) for cost, i, j in found]
    return found


def insert_jobs(
    built: BuiltModel, routes: Sequence[Sequence[int]], jobs: Sequence[int]
) -> tuple[list[list[int]], dict[int, UnservedReason]]:
    """Insert each of `jobs` (indices into ``built.jobs``) where it fits at least cost.

    Returns
    -------
    routes, reasons
        The routes with the jobs that fit; for the others, "fleet full" when some vehicle
        could serve the job alone, "window unreachable" when none could.
    """
    grown = [list(route) for route in routes]
    reasons: dict[int, UnservedReason] = {}
    for j in jobs:
        job = built.jobs[j]
        first, second = (built.base + k for k in job.visits)
        grams = built.grams[first]
        suitable = [
            v
            for v, veh in enumerate(built.vehicles)
            if (veh.refrigerated or not job.refrigerated) and grams <= built.capacity_g[v]
        ]
        options = sorted(
            (cost, v, i, k)
            for v in suitable
            for cost, i, k in _candidates(built, v, grown[v], first, second, grams)
        )
        placed = False
        for _, v, i, k in options[:_MAX_FULL_CHECKS]:
            route = grown[v]
            trial = [*route[:i], first, *route[i:k], second, *route[k:]]
            if route_fits(built, v, trial):
                grown[v] = trial
                placed = True
                break
        if not placed:
            alone = any(route_fits(built, v, [first, second]) for v in suitable)
            reasons[j] = UnservedReason.FLEET_FULL if alone else UnservedReason.WINDOW_UNREACHABLE
    return grown, reasons
