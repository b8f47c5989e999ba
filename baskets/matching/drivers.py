"""Drivers for rounds: a CP-SAT assignment with availability, vehicle and workload rules.

A volunteer can drive a round when one of their availability windows covers the round's
window, their vehicle holds the round's peak load (and is refrigerated when the round needs
it), the detour from home to the round's start is within `DriverProblem.max_detour_km`, the
pairing is not excluded, and their monthly cap (rounds and/or hours) leaves room. A volunteer
never drives two rounds whose windows overlap.

Objectives, by weight: drive as many rounds as possible; then spread the work (a second round
in the same plan costs more than a long detour; volunteers who drove recently cost more);
then short detours. Pins are kept; exclusions are never used. `propose_replacements` ranks who
can take a round a driver dropped, nearest first, and `resolve_after_dropout` re-solves with
every other assignment pinned, so only the round that changed moves.

The rounds of one problem are assumed to fall in the month the volunteers' counters
(`rounds_this_month`, `hours_this_month`) refer to.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ortools.sat.python import cp_model

from baskets.matching.projects import distance_km
from baskets.matching.reasons import Reason, num_en, num_fr

COVER_WEIGHT = 1_000_000  # one more round driven beats any detour or spreading cost
SECOND_ROUND_COST = 400  # a volunteer's extra round in this plan ~ 40 km of someone's detour
RECENT_ROUND_COST = 40  # per round already driven recently or this month
DETOUR_SCALE = 10  # detour in tenths of km in the objective


@dataclass(frozen=True, slots=True)
class Round:
    """A planned round: its time window, peak load, cold chain need and starting point."""

    id: str
    start: datetime
    end: datetime
    peak_load_kg: float
    lat: float
    lon: float
    refrigerated: bool = False


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer driver with availability windows, a vehicle, a home and a monthly cap.

    `max_rounds_per_month` / `max_hours_per_month` (None: no cap) count together with
    `rounds_this_month` / `hours_this_month` already driven; `recent_rounds` (the last few
    weeks) makes a volunteer who drove a lot lately less preferred, to spread the work.
    """

    id: str
    availability: tuple[tuple[datetime, datetime], ...]
    capacity_kg: float
    lat: float
    lon: float
    refrigerated: bool = False
    max_rounds_per_month: int | None = None
    max_hours_per_month: float | None = None
    rounds_this_month: int = 0
    hours_this_month: float = 0.0
    recent_rounds: int = 0


@dataclass(frozen=True, slots=True)
class DriverProblem:
    """Rounds, volunteers, coordinator pins and exclusions ((round id, volunteer id) pairs)."""

    rounds: tuple[Round, ...]
    volunteers: tuple[Volunteer, ...]
    pins: tuple[tuple[str, str], ...] = ()
    exclusions: tuple[tuple[str, str], ...] = ()
    max_detour_km: float = 30.0


@dataclass(frozen=True, slots=True)
class RoundAssignment:
    """A volunteer driving a round, with the reasons in both languages."""

    round_id: str
    volunteer_id: str
    detour_km: float
    pinned: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class UnassignedRound:
    """A round left without driver, and why."""

    round_id: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class DriverResult:
    """Result of `assign_drivers`: status is CP-SAT's ("optimal", "feasible") or "empty"."""

    status: str
    assignments: tuple[RoundAssignment, ...]
    unassigned: tuple[UnassignedRound, ...]
    metrics: Mapping[str, float | int | str]


@dataclass(frozen=True, slots=True)
class Replacement:
    """A volunteer who can take over a dropped round, with the reasons."""

    volunteer_id: str
    detour_km: float
    reasons: tuple[Reason, ...]


# ---------------------------------------------------------------------------- eligibility


def _hours(r: Round) -> float:
    return (r.end - r.start).total_seconds() / 3600.0


def _covers(v: Volunteer, r: Round) -> bool:
    return any(a <= r.start and r.end <= b for a, b in v.availability)


def _overlap(a: Round, b: Round) -> bool:
    return a.start < b.end and b.start < a.end


def _hhmm(d: datetime) -> str:
    return d.strftime("%d/%m %H:%M")


def _blocker(problem: DriverProblem, v: Volunteer, r: Round, *, check_detour: bool = True,
             excluded: frozenset[tuple[str, str]] | None = None) -> str | None:
    """The first rule that stops `v` driving `r` alone (None if none), as a reason code."""
    if (r.id, v.id) in (excluded if excluded is not None else frozenset(problem.exclusions)):
        return "excluded"
    if not _covers(v, r):
        return "availability"
    if v.capacity_kg < r.peak_load_kg:
        return "capacity"
    if r.refrigerated and not v.refrigerated:
        return "refrigeration"
    if check_detour and distance_km(v.lat, v.lon, r.lat, r.lon) > problem.max_detour_km:
        return "detour"
    if v.max_rounds_per_month is not None and v.rounds_this_month >= v.max_rounds_per_month:
        return "cap"
    if (v.max_hours_per_month is not None
            and v.hours_this_month + _hours(r) > v.max_hours_per_month + 1e-9):
        return "cap"
    return None


def _check(problem: DriverProblem) -> tuple[dict[str, int], dict[str, int]]:
    """Validate ids, windows, pins and exclusions; return id -> position maps."""
    rpos: dict[str, int] = {}
    for i, r in enumerate(problem.rounds):
        if r.id in rpos:
            raise ValueError(f"rounds[{i}].id: duplicate id {r.id!r}")
        if r.end <= r.start:
            raise ValueError(f"rounds[{i}]: end {r.end} is not after start {r.start}")
        if r.peak_load_kg < 0:
            raise ValueError(f"rounds[{i}].peak_load_kg: must be >= 0, got {r.peak_load_kg}")
        rpos[r.id] = i
    vpos: dict[str, int] = {}
    for i, v in enumerate(problem.volunteers):
        if v.id in vpos:
            raise ValueError(f"volunteers[{i}].id: duplicate id {v.id!r}")
        vpos[v.id] = i
    for name, pairs in (("pins", problem.pins), ("exclusions", problem.exclusions)):
        for k, (rid, vid) in enumerate(pairs):
            if rid not in rpos:
                raise ValueError(f"{name}[{k}]: unknown round {rid!r}")
            if vid not in vpos:
                raise ValueError(f"{name}[{k}]: unknown volunteer {vid!r}")
    pinned_rounds: set[str] = set()
    for k, (rid, vid) in enumerate(problem.pins):
        if rid in pinned_rounds:
            raise ValueError(f"pins[{k}]: round {rid!r} is pinned twice")
        pinned_rounds.add(rid)
        why = _blocker(problem, problem.volunteers[vpos[vid]], problem.rounds[rpos[rid]],
                       check_detour=False)
        if why is not None:
            raise ValueError(f"pins[{k}]: volunteer {vid!r} cannot drive round {rid!r} ({why})")
    return rpos, vpos


# ---------------------------------------------------------------------------- model


@dataclass(slots=True)
class _Model:
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    detour: dict[tuple[int, int], float]


def _minutes(d: datetime, origin: datetime) -> int:
    return int((d - origin).total_seconds() // 60)


def _build(problem: DriverProblem, rpos: Mapping[str, int], vpos: Mapping[str, int]) -> _Model:
    """Variables only for eligible pairs; pins forced; caps, no-overlap and the objective."""
    m = cp_model.CpModel()
    pins = {(rpos[r], vpos[v]) for r, v in problem.pins}
    excluded = frozenset(problem.exclusions)
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    detour: dict[tuple[int, int], float] = {}
    for ri, r in enumerate(problem.rounds):
        for vi, v in enumerate(problem.volunteers):
            # Pinned pairs skip the detour limit: the coordinator chose them knowingly.
            if _blocker(problem, v, r, check_detour=(ri, vi) not in pins,
                        excluded=excluded) is None:
                x[(ri, vi)] = m.new_bool_var(f"x_{ri}_{vi}")
                detour[(ri, vi)] = distance_km(v.lat, v.lon, r.lat, r.lon)
    for p in pins:
        m.add(x[p] == 1)
    by_round: dict[int, list[cp_model.IntVar]] = {}
    by_vol: dict[int, list[int]] = {}
    for (ri, vi), var in x.items():
        by_round.setdefault(ri, []).append(var)
        by_vol.setdefault(vi, []).append(ri)
    for vars_ in by_round.values():
        m.add_at_most_one(vars_)
    origin = min((r.start for r in problem.rounds), default=datetime.min)
    objective = []
    for vi, rounds in by_vol.items():
        v = problem.volunteers[vi]
        rs = [problem.rounds[ri] for ri in rounds]
        intervals = [m.new_optional_interval_var(
            _minutes(r.start, origin), _minutes(r.end, origin) - _minutes(r.start, origin),
            _minutes(r.end, origin), x[(ri, vi)], f"iv_{ri}_{vi}")
            for ri, r in zip(rounds, rs, strict=True)]
        m.add_no_overlap(intervals)
        xs = [x[(ri, vi)] for ri in rounds]
        if v.max_rounds_per_month is not None:
            m.add(sum(xs) <= v.max_rounds_per_month - v.rounds_this_month)
        if v.max_hours_per_month is not None:
            left = int(round((v.max_hours_per_month - v.hours_this_month) * 60))
            m.add(sum(_minutes(r.end, r.start) * xv for r, xv in zip(rs, xs, strict=True))
                  <= left)
        if len(xs) > 1:
            extra = m.new_int_var(0, len(xs), f"extra_{vi}")
            m.add(extra >= sum(xs) - 1)
            objective.append(-SECOND_ROUND_COST * extra)
        past = RECENT_ROUND_COST * (v.recent_rounds + v.rounds_this_month)
        for ri in rounds:
            cost = past + int(round(detour[(ri, vi)] * DETOUR_SCALE))
            objective.append((COVER_WEIGHT - cost) * x[(ri, vi)])
    m.maximize(sum(objective))
    return _Model(m, x, detour)


def _solve(mod: _Model, time_limit: float, seed: int) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = 2  # the hosts are small; more workers only contend
    return solver, solver.solve(mod.model)


# ---------------------------------------------------------------------------- reasons


def _assignment_reasons(problem: DriverProblem, v: Volunteer, r: Round, detour: float,
                        pinned: bool, rounds_in_plan: int) -> tuple[Reason, ...]:
    out = []
    if pinned:
        out.append(Reason("pinned", "Affectation fixée par la coordination.",
                          "Pinned by the coordinators."))
    out.append(Reason(
        "availability",
        f"Disponible sur tout le créneau de la tournée ({_hhmm(r.start)} – {_hhmm(r.end)}).",
        f"Available for the whole round window ({_hhmm(r.start)} - {_hhmm(r.end)})."))
    cold_fr = ", réfrigéré" if r.refrigerated else ""
    cold_en = ", refrigerated" if r.refrigerated else ""
    out.append(Reason(
        "vehicle",
        f"Véhicule de {num_fr(v.capacity_kg)} kg{cold_fr} pour une charge maximale de "
        f"{num_fr(r.peak_load_kg)} kg.",
        f"Vehicle of {num_en(v.capacity_kg)} kg{cold_en} for a peak load of "
        f"{num_en(r.peak_load_kg)} kg."))
    out.append(Reason(
        "detour",
        f"Départ à {num_fr(detour)} km du domicile (limite {num_fr(problem.max_detour_km)} km).",
        f"Start {num_en(detour)} km from home (limit {num_en(problem.max_detour_km)} km)."))
    total = v.rounds_this_month + rounds_in_plan
    cap_fr = f" sur {v.max_rounds_per_month} au plus" if v.max_rounds_per_month else ""
    cap_en = f" of at most {v.max_rounds_per_month}" if v.max_rounds_per_month else ""
    out.append(Reason(
        "workload",
        f"{total} tournée(s) ce mois-ci avec ce planning{cap_fr} ; {v.recent_rounds} ces "
        f"dernières semaines.",
        f"{total} round(s) this month with this plan{cap_en}; {v.recent_rounds} in recent "
        f"weeks."))
    return tuple(out)


_BLOCK_TEXT = {
    "excluded": ("exclu(s) par la coordination", "excluded by the coordinators"),
    "availability": ("pas disponible(s) sur tout le créneau", "not available for the whole window"),
    "capacity": ("véhicule trop petit pour la charge", "vehicle too small for the load"),
    "refrigeration": ("sans véhicule réfrigéré", "no refrigerated vehicle"),
    "detour": ("trop loin du départ", "too far from the start"),
    "cap": ("plafond mensuel atteint", "monthly cap reached"),
}


def _unassigned_reasons(problem: DriverProblem, r: Round, busy: int) -> tuple[Reason, ...]:
    """Count, for each rule, the volunteers it rules out; then those busy elsewhere."""
    counts: dict[str, int] = {}
    for v in problem.volunteers:
        why = _blocker(problem, v, r)
        if why is not None:
            counts[why] = counts.get(why, 0) + 1
    out = [Reason("no_driver", "Aucun conducteur disponible pour cette tournée.",
                  "No driver available for this round.")]
    if not problem.volunteers:
        return tuple(out)
    for code, n in counts.items():
        fr, en = _BLOCK_TEXT[code]
        out.append(Reason(code, f"{n} bénévole(s) : {fr}.", f"{n} volunteer(s): {en}."))
    if busy:
        out.append(Reason(
            "busy",
            f"{busy} bénévole(s) possible(s) déjà pris par une autre tournée au même moment "
            f"ou à leur plafond avec ce planning.",
            f"{busy} possible volunteer(s) already driving another round at that time or at "
            f"their cap with this plan."))
    return tuple(out)


# ---------------------------------------------------------------------------- public API


def assign_drivers(problem: DriverProblem, *, time_limit: float, seed: int) -> DriverResult:
    """Assign a volunteer driver to each round, as many rounds as possible, spread and near.

    Parameters
    ----------
    problem
        Rounds, volunteers, pins and exclusions.
    time_limit
        CP-SAT wall-clock limit in seconds.
    seed
        CP-SAT random seed.

    Returns
    -------
    DriverResult
        One `RoundAssignment` per driven round (reasons: availability, vehicle, detour,
        workload, pin) and one `UnassignedRound` per round without driver (reasons: how many
        volunteers each rule rules out, how many are busy elsewhere).

    Raises
    ------
    ValueError
        On duplicate ids, an empty round window, an unknown id in pins or exclusions, a round
        pinned twice, or a pin the volunteer cannot drive (availability, vehicle, cap).
    RuntimeError
        If CP-SAT finds no solution within the time limit (pins conflicting with each other,
        e.g. one volunteer pinned on overlapping rounds).
    """
    t0 = time.monotonic()
    rpos, vpos = _check(problem)
    if not problem.rounds:
        return DriverResult("empty", (), (), {"rounds": 0})
    mod = _build(problem, rpos, vpos)
    solver, status = _solve(mod, time_limit, seed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(
            "aucune solution : épingles incompatibles ? / no solution: conflicting pins? "
            f"({solver.status_name(status)})")
    return _extract(problem, mod, solver, status, time.monotonic() - t0)


def _extract(problem: DriverProblem, mod: _Model, solver: cp_model.CpSolver, status: Any,
             seconds: float) -> DriverResult:
    pins = set(problem.pins)
    chosen = {ri: vi for (ri, vi), var in mod.x.items() if solver.value(var)}
    per_vol: dict[int, int] = {}
    for vi in chosen.values():
        per_vol[vi] = per_vol.get(vi, 0) + 1
    assignments = []
    unassigned = []
    for ri, r in enumerate(problem.rounds):
        if ri in chosen:
            vi = chosen[ri]
            v = problem.volunteers[vi]
            assignments.append(RoundAssignment(
                r.id, v.id, round(mod.detour[(ri, vi)], 2), (r.id, v.id) in pins,
                _assignment_reasons(problem, v, r, mod.detour[(ri, vi)], (r.id, v.id) in pins,
                                    per_vol[vi])))
        else:
            busy = sum(1 for (rj, _vj) in mod.x if rj == ri)
            unassigned.append(UnassignedRound(r.id, _unassigned_reasons(problem, r, busy)))
    metrics: dict[str, float | int | str] = {
        "rounds": len(problem.rounds),
        "assigned": len(assignments),
        "pairs": len(mod.x),
        "total_detour_km": round(sum(a.detour_km for a in assignments), 2),
        "volunteers_used": len(per_vol),
        "max_rounds_per_volunteer": max(per_vol.values(), default=0),
        "seconds": round(seconds, 3),
    }
    return DriverResult(solver.status_name(status).lower(), tuple(assignments),
                        tuple(unassigned), metrics)


def propose_replacements(problem: DriverProblem, round_id: str, dropped_volunteer_id: str, *,
                         limit: int = 5, current: Mapping[str, str] | None = None
                         ) -> list[Replacement]:
    """Rank who can take over `round_id` after `dropped_volunteer_id` dropped out.

    Parameters
    ----------
    problem
        The plan's problem (exclusions and the detour limit apply).
    round_id, dropped_volunteer_id
        The round to refill and the volunteer who left it (never proposed again for it).
    limit
        How many candidates to return at most.
    current
        The other rounds' drivers (round id -> volunteer id), so that nobody is proposed while
        driving an overlapping round or beyond their cap; defaults to `problem.pins`.

    Returns
    -------
    list of Replacement
        Eligible volunteers, nearest first (ties: fewer rounds this month, then id).
    """
    rpos, vpos = _check(problem)
    if round_id not in rpos:
        raise ValueError(f"unknown round {round_id!r}")
    if dropped_volunteer_id not in vpos:
        raise ValueError(f"unknown volunteer {dropped_volunteer_id!r}")
    r = problem.rounds[rpos[round_id]]
    plan = dict(problem.pins) if current is None else dict(current)
    plan.pop(round_id, None)
    load: dict[str, list[Round]] = {}
    for rid, vid in plan.items():
        if rid in rpos:
            load.setdefault(vid, []).append(problem.rounds[rpos[rid]])
    ranked: list[tuple[float, int, str, Volunteer]] = []
    for v in problem.volunteers:
        if v.id == dropped_volunteer_id or _blocker(problem, v, r) is not None:
            continue
        mine = load.get(v.id, [])
        if any(_overlap(r, o) for o in mine):
            continue
        if (v.max_rounds_per_month is not None
                and v.rounds_this_month + len(mine) + 1 > v.max_rounds_per_month):
            continue
        if (v.max_hours_per_month is not None and v.hours_this_month
                + sum(_hours(o) for o in mine) + _hours(r) > v.max_hours_per_month + 1e-9):
            continue
        ranked.append((distance_km(v.lat, v.lon, r.lat, r.lon),
                       v.rounds_this_month + len(mine), v.id, v))
    ranked.sort(key=lambda t: (t[0], t[1], t[2]))
    out = []
    for rank, (d, _n, _id, v) in enumerate(ranked[:limit], start=1):
        reasons = (Reason("rank", f"Choix n° {rank} : le plus proche d'abord.",
                          f"Choice #{rank}: nearest first."),
                   *_assignment_reasons(problem, v, r, d, False, len(load.get(v.id, [])) + 1))
        out.append(Replacement(v.id, round(d, 2), reasons))
    return out


def resolve_after_dropout(problem: DriverProblem, previous: DriverResult, round_id: str,
                          dropped_volunteer_id: str, *, time_limit: float, seed: int
                          ) -> DriverResult:
    """Re-solve after a drop-out, keeping every other assignment of `previous` as it is.

    The dropped volunteer is excluded from `round_id`; all other driven rounds are pinned, so
    only that round (and rounds that had no driver) can change.
    """
    pins = tuple((a.round_id, a.volunteer_id) for a in previous.assignments
                 if a.round_id != round_id)
    exclusions = (*problem.exclusions, (round_id, dropped_volunteer_id))
    again = DriverProblem(problem.rounds, problem.volunteers, pins, exclusions,
                          problem.max_detour_km)
    return assign_drivers(again, time_limit=time_limit, seed=seed)
