"""VROOM's plan of the built model, as a start for OR-Tools.

VROOM (pyvroom) builds good plans fast and with few vehicles. It gets the model's own
integer data: every job is a VROOM shipment (farm -> point, farm -> hub, hub -> point);
refrigerated produce needs skill 1, which only refrigerated vehicles have; capacities in
grams; vehicle shifts as time windows; drivers' breaks; the same fixed cost, metres and
travel seconds in the cost. The hub's visits share one location, so VROOM pays its fixed
service once per call as a setup. VROOM's windows bind the start of the setup, the model's
the start of the visit's own service (after the setup for the first visit of a call, at
once for the next ones): the hub's windows end a setup earlier in VROOM, so that its plan
keeps the model's windows either way.

VROOM knows no maximum round duration shorter than the shift: `insertion.fitting_routes`
cuts back a route that breaks it, and OR-Tools inserts the jobs again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from baskets.optimizer.routing.model import VisitKind
from baskets.optimizer.routing.objective import DURATION_COST

if TYPE_CHECKING:
    from baskets.optimizer.routing.solve import BuiltModel

__all__ = ["VROOM_THREADS", "vroom_available", "vroom_routes"]

_log = logging.getLogger(__name__)
_COLD_SKILL = 1
# Threads VROOM runs its heuristics on (the benchmark gives the VROOM peer as many).
VROOM_THREADS = 2
# VROOM's exploration level by seconds of budget per job: its constructions cannot be cut
# short, and the deeper levels run more of them (level 5 at 200 stops needs ~10-40 s).
_EXPLORATION = ((0.1, 5), (0.03, 3), (0.0, 1))


def vroom_available() -> bool:
    """Whether pyvroom can be imported."""
    try:
        import vroom  # noqa: F401
    except ImportError:
        return False
    return True


def vroom_routes(
    built: BuiltModel, *, time_limit: float, threads: int = VROOM_THREADS
) -> list[list[int]] | None:
    """VROOM's routes as node numbers per vehicle, or None if VROOM is missing or fails."""
    try:
        import vroom
    except ImportError:
        _log.warning("pyvroom is not installed: OR-Tools plans the rounds alone")
        return None
    try:
        problem = _vroom_input(vroom, built)
        if problem is None:
            return None
        jobs = max(1, len(built.jobs) - len(built.excluded))
        level = next(level for least, level in _EXPLORATION if time_limit / jobs >= least)
        solution = problem.solve(
            exploration_level=level,
            nb_threads=threads,
            timeout=timedelta(seconds=max(0.01, time_limit)),
        )
        return _read_routes(built, solution)
    except Exception as exc:  # VROOM's own errors: the OR-Tools path still answers
        _log.warning("VROOM stage failed (%s): OR-Tools plans the rounds alone", exc)
        return None


def _vroom_input(vroom: Any, built: BuiltModel) -> Any:
    """The VROOM problem of `built` (None if it has no job to plan)."""
    base = built.base
    nodes = base + len(built.visits)
    # One location per node, except the hub: all its visits are one place for the setup.
    place = np.arange(nodes)
    hub_nodes = [base + k for k, visit in enumerate(built.visits) if _at_hub(visit.kind)]
    if hub_nodes:
        place[hub_nodes] = hub_nodes[0]
    rows, index = np.unique(place, return_inverse=True)
    problem = vroom.Input()
    metres = np.asarray(built.metres, dtype=np.int64)[np.ix_(rows, rows)]
    profiles: dict[int, str] = {}
    for v, drive in enumerate(built.drive):
        if id(drive) not in profiles:
            name = f"p{len(profiles)}"
            profiles[id(drive)] = name
            problem.set_durations_matrix(name, drive[np.ix_(rows, rows)])
            problem.set_distances_matrix(name, metres)
        veh = built.vehicles[v]
        problem.add_vehicle(
            vroom.Vehicle(
                v,
                start=int(index[2 * v]),
                end=int(index[2 * v + 1]),
                profile=profiles[id(drive)],
                capacity=[built.capacity_g[v]],
                skills={_COLD_SKILL} if veh.refrigerated else set(),
                time_window=vroom.TimeWindow(built.earliest[2 * v], built.latest[2 * v]),
                breaks=[
                    vroom.Break(k, time_windows=[vroom.TimeWindow(lo, hi)], service=duration)
                    for k, (_, lo, hi, duration) in enumerate(built.breaks[v])
                ],
                costs=vroom.VehicleCosts(
                    fixed=built.fixed_cost[v], per_hour=DURATION_COST * 3600, per_km=1000
                ),
            )
        )
    planned = 0
    for j, job in enumerate(built.jobs):
        if j in built.excluded:
            continue
        steps = []
        for k in job.visits:
            node = base + k
            setup = built.hub_fixed_s if _at_hub(built.visits[k].kind) else 0
            lo, hi = built.earliest[node], built.latest[node] - setup
            if hi < lo:
                break
            steps.append(
                vroom.ShipmentStep(
                    k,
                    int(index[node]),
                    default_setup=setup,
                    default_service=built.service_s[node],
                    time_windows=[vroom.TimeWindow(lo, hi)],
                )
            )
        if len(steps) < 2:
            continue  # left to OR-Tools
        problem.add_shipment(
            steps[0],
            steps[1],
            amount=vroom.Amount([built.grams[base + job.visits[0]]]),
            skills={_COLD_SKILL} if job.refrigerated else set(),
        )
        planned += 1
    return problem if planned else None


def _at_hub(kind: VisitKind) -> bool:
    return kind in (VisitKind.HUB_DROP, VisitKind.HUB_LOAD)


def _read_routes(built: BuiltModel, solution: Any) -> list[list[int]]:
    """Node numbers per vehicle from VROOM's solution (its step ids are visit indices)."""
    routes: list[list[int]] = [[] for _ in built.vehicles]
    frame = solution.routes
    if frame.empty:
        return routes
    for vehicle, kind, step in zip(
        frame["vehicle_id"].tolist(),
        frame["type"].astype(str).tolist(),
        frame["id"].tolist() if "id" in frame else [None] * len(frame),
        strict=True,
    ):
        if kind in ("pickup", "delivery") and step is not None:
            routes[int(vehicle)].append(built.base + int(step))
    return routes
