"""People and sponsored hours for projects: a lexicographic LP, then a minimum-chunk repair.

Model
-----
Providers (company skills-sponsorship offers and individual volunteers) give hours to the
needs of neighbourhood projects. A pair (provider, need) is *eligible* when the provider has
the skill at or above the need's minimum level, their day windows overlap, and the great-circle
distance is within the provider's ``max_km`` unless both sides accept remote work.

Hard rules: a provider never above its hours, a company never above its agreement total, each
new assignment at least the provider's ``min_chunk_hours``, a need never over-filled. Accepted
(fixed) assignments are kept exactly and consume the budgets first.

Objectives, lexicographically: (1) the worst neighbourhood's share of needed hours (max-min),
(2) the hours covered, (3) the fit (level, distance, priority neighbourhood).

Method
------
Only eligible pairs become variables (vectorised per skill, so the far pairs are never
built; on large instances only the best-fitting pairs per need and per provider are kept).
GLOP maximises ``M * t + hours (+ a tiny fit bonus)`` where ``t`` is the worst neighbourhood
share and M outweighs any hours trade-off, which at a vertex is the lexicographic optimum in
one solve. The minimum-chunk rule is not linear, so fix-and-resolve rounds follow, each on a
fresh model (faster than a warm start from a basis the new bounds make infeasible): pairs at
or above their chunk get it as lower bound, pairs below it are forced up to it while the
budgets allow, or banned. A closing round allows only the settled pairs, so every positive
value is a valid assignment. Hours are then rounded down to
quarter-hours and refilled greedily, worst-served neighbourhood first; if the time limit cut
the LP short, that greedy fill alone produces a valid (less fair) answer.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from geopy.distance import great_circle
from ortools.linear_solver import pywraplp

from baskets.matching.reasons import Locale, Reason, check_locale, num_en, num_fr, pct_en, pct_fr

EARTH_RADIUS_KM = 6371.009  # geopy's great_circle radius, so both agree on eligibility
EPS = 1e-6
HOURS_QUANTUM = 0.25  # assignments are whole quarter-hours: what people can plan


# ---------------------------------------------------------------------------- problem data


@dataclass(frozen=True, slots=True)
class Need:
    """One need of a project: `hours` of `skill` at level `min_level` or above."""

    skill: str
    hours: float
    min_level: int = 1


@dataclass(frozen=True, slots=True)
class Project:
    """A citizen or associative project in a neighbourhood, with its needs.

    `window` is the inclusive day range ``(start_day, end_day)`` when the help is wanted.
    `qpv` tells whether the neighbourhood is an official priority neighbourhood.
    """

    id: str
    neighbourhood: str
    lat: float
    lon: float
    window: tuple[int, int]
    needs: tuple[Need, ...]
    qpv: bool = True
    remote_ok: bool = False


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider of hours: a company's sponsorship offer (`company` set) or a volunteer.

    `skills` maps a skill to a level (higher is better); `window` is the inclusive day range
    when the hours can be given; `max_km` bounds the on-site distance; `min_chunk_hours` is
    the smallest assignment the provider accepts.
    """

    id: str
    skills: Mapping[str, int]
    hours: float
    lat: float
    lon: float
    window: tuple[int, int]
    max_km: float
    min_chunk_hours: float = 0.0
    remote_ok: bool = False
    company: str | None = None


@dataclass(frozen=True, slots=True)
class FixedAssignment:
    """An accepted assignment that must stay as it is when the rest is re-solved.

    `need` is the index of the need in the project's `needs`; when None, the first need of the
    project with that skill is meant.
    """

    provider: str
    project: str
    skill: str
    hours: float
    need: int | None = None


@dataclass(frozen=True, slots=True)
class MatchingProblem:
    """Everything the project matcher needs.

    `agreements` maps a company to the total hours its agreement allows across all its offers
    (companies absent from it are bounded only by their offers' hours). `excluded` holds
    (provider, project) pairs never to propose again (one side declined them).
    """

    projects: tuple[Project, ...]
    providers: tuple[Provider, ...]
    agreements: Mapping[str, float] = field(default_factory=dict)
    fixed: tuple[FixedAssignment, ...] = ()
    excluded: frozenset[tuple[str, str]] = frozenset()


# ---------------------------------------------------------------------------- result data


@dataclass(frozen=True, slots=True)
class Assignment:
    """Hours of one provider given to one need, with the reasons in both languages."""

    provider: str
    project: str
    need: int
    skill: str
    hours: float
    fixed: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Uncovered:
    """Hours of a need left uncovered, and why."""

    project: str
    need: int
    skill: str
    hours: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class MatchingResult:
    """Result of `match_projects`.

    `status` is "feasible" when all LP rounds ran (every rule holds; the worst share and the
    hours are close to, not proved equal to, the LP bounds in `metrics`), "partial" when the
    time limit cut the fix-and-resolve rounds short, "fallback" when even the first LP did
    not finish (greedy fill only; rules still hold), "empty" when no need was given.
    `metrics` holds plain numbers (hours, shares, LP bounds, timings).
    """

    status: str
    assignments: tuple[Assignment, ...]
    uncovered: tuple[Uncovered, ...]
    neighbourhood_share: Mapping[str, float]
    metrics: Mapping[str, float | int | str]
    locale: Locale = "fr"


# ---------------------------------------------------------------------------- eligibility


@dataclass(slots=True)
class _Pairs:
    """Eligible (provider, need) pairs as parallel arrays, plus per-need diagnostics."""

    prov: np.ndarray  # provider index
    need: np.ndarray  # global need index
    dist: np.ndarray  # great-circle km
    remote: np.ndarray  # bool: eligible through remote work only
    # per need: how many providers pass each successive filter (for uncovered reasons)
    n_skill: np.ndarray
    n_level: np.ndarray
    n_window: np.ndarray
    n_reach: np.ndarray
    nearest_km: np.ndarray  # nearest provider passing skill, level and window (inf if none)


@dataclass(slots=True)
class _Index:
    """Flat views of the problem: needs numbered globally, fixed hours per need/provider."""

    need_project: list[int]
    need_local: list[int]
    need_hours: np.ndarray
    prov_rem: np.ndarray
    need_rem: np.ndarray
    company_rem: dict[str, float]
    fixed_rows: list[tuple[int, int, float]]  # (provider index, need index, hours)
    need_of: dict[tuple[str, int], int]


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
               lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances in km for broadcastable arrays of degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (geopy), the contract's distance."""
    return float(great_circle((lat1, lon1), (lat2, lon2)).km)


def _index(problem: MatchingProblem) -> _Index:
    """Number the needs, apply fixed assignments to the budgets, and validate them."""
    need_project: list[int] = []
    need_local: list[int] = []
    hours: list[float] = []
    need_of: dict[tuple[str, int], int] = {}
    project_pos: dict[str, int] = {}
    for j, pr in enumerate(problem.projects):
        if pr.id in project_pos:
            raise ValueError(f"projects[{j}].id: duplicate id {pr.id!r}")
        project_pos[pr.id] = j
        for k, nd in enumerate(pr.needs):
            need_of[(pr.id, k)] = len(hours)
            need_project.append(j)
            need_local.append(k)
            hours.append(float(nd.hours))
    prov_pos: dict[str, int] = {}
    for i, pv in enumerate(problem.providers):
        if pv.id in prov_pos:
            raise ValueError(f"providers[{i}].id: duplicate id {pv.id!r}")
        prov_pos[pv.id] = i
    need_hours = np.asarray(hours, dtype=float)
    prov_rem = np.asarray([float(p.hours) for p in problem.providers], dtype=float)
    need_rem = need_hours.copy()
    company_rem = {c: float(h) for c, h in problem.agreements.items()}
    rows: list[tuple[int, int, float]] = []
    for f_i, fa in enumerate(problem.fixed):
        where = f"fixed[{f_i}]"
        if fa.provider not in prov_pos:
            raise ValueError(f"{where}.provider: unknown provider {fa.provider!r}")
        if fa.project not in project_pos:
            raise ValueError(f"{where}.project: unknown project {fa.project!r}")
        pr = problem.projects[project_pos[fa.project]]
        if fa.need is not None:
            if not 0 <= fa.need < len(pr.needs) or pr.needs[fa.need].skill != fa.skill:
                raise ValueError(f"{where}.need: project {pr.id!r} has no need {fa.need} "
                                 f"with skill {fa.skill!r}")
            k = fa.need
        else:
            ks = [k for k, nd in enumerate(pr.needs) if nd.skill == fa.skill]
            if not ks:
                raise ValueError(f"{where}.skill: project {pr.id!r} has no need {fa.skill!r}")
            k = ks[0]
        i = prov_pos[fa.provider]
        n = need_of[(pr.id, k)]
        rows.append((i, n, float(fa.hours)))
        prov_rem[i] -= fa.hours
        need_rem[n] -= fa.hours
        comp = problem.providers[i].company
        if comp is not None and comp in company_rem:
            company_rem[comp] -= fa.hours
    # Accepted assignments are kept even if a budget shrank since: the rest gets what is left.
    np.maximum(prov_rem, 0.0, out=prov_rem)
    np.maximum(need_rem, 0.0, out=need_rem)
    for c in company_rem:
        company_rem[c] = max(company_rem[c], 0.0)
    return _Index(need_project, need_local, need_hours, prov_rem, need_rem, company_rem, rows,
                  need_of)


def check_problem(problem: MatchingProblem) -> None:
    """Raise ValueError if ids are duplicated or a fixed assignment names nothing known."""
    _index(problem)


def _eligible(problem: MatchingProblem, ix: _Index) -> _Pairs:
    """Build eligible pairs skill by skill with numpy (spatial pruning before any variable)."""
    n_needs = len(ix.need_hours)
    n_skill = np.zeros(n_needs, dtype=int)
    n_level = np.zeros(n_needs, dtype=int)
    n_window = np.zeros(n_needs, dtype=int)
    n_reach = np.zeros(n_needs, dtype=int)
    nearest = np.full(n_needs, math.inf)
    by_skill_prov: dict[str, list[int]] = defaultdict(list)
    for i, pv in enumerate(problem.providers):
        for s in pv.skills:
            by_skill_prov[s].append(i)
    by_skill_need: dict[str, list[int]] = defaultdict(list)
    for n in range(n_needs):
        pr = problem.projects[ix.need_project[n]]
        by_skill_need[pr.needs[ix.need_local[n]].skill].append(n)
    out_p: list[np.ndarray] = []
    out_n: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    provs = problem.providers
    for skill, needs in by_skill_need.items():
        pi = np.asarray(by_skill_prov.get(skill, []), dtype=int)
        nn = np.asarray(needs, dtype=int)
        if len(pi) == 0:
            continue
        n_skill[nn] = len(pi)
        lvl = np.asarray([provs[i].skills[skill] for i in pi])
        p_lat = np.asarray([provs[i].lat for i in pi])
        p_lon = np.asarray([provs[i].lon for i in pi])
        p_s = np.asarray([provs[i].window[0] for i in pi])
        p_e = np.asarray([provs[i].window[1] for i in pi])
        p_km = np.asarray([provs[i].max_km for i in pi], dtype=float)
        p_rem = np.asarray([provs[i].remote_ok for i in pi], dtype=bool)
        prs = [problem.projects[ix.need_project[n]] for n in nn]
        minl = np.asarray([pr.needs[ix.need_local[n]].min_level for pr, n in zip(prs, nn,
                                                                                    strict=True)])
        n_lat = np.asarray([pr.lat for pr in prs])
        n_lon = np.asarray([pr.lon for pr in prs])
        n_s = np.asarray([pr.window[0] for pr in prs])
        n_e = np.asarray([pr.window[1] for pr in prs])
        n_rem = np.asarray([pr.remote_ok for pr in prs], dtype=bool)
        level_ok = lvl[:, None] >= minl[None, :]
        win_ok = level_ok & (p_s[:, None] <= n_e[None, :]) & (n_s[None, :] <= p_e[:, None])
        d = _haversine(p_lat[:, None], p_lon[:, None], n_lat[None, :], n_lon[None, :])
        # Pairs within a metre of the limit are re-measured with geopy so the solver and the
        # contract's distance never disagree on eligibility.
        near = win_ok & (np.abs(d - p_km[:, None]) < 1e-3)
        for a, b in zip(*np.nonzero(near), strict=True):
            d[a, b] = distance_km(p_lat[a], p_lon[a], n_lat[b], n_lon[b])
        in_range = d <= p_km[:, None]
        both_remote = p_rem[:, None] & n_rem[None, :]
        ok = win_ok & (in_range | both_remote)
        n_level[nn] = level_ok.sum(axis=0)
        n_window[nn] = win_ok.sum(axis=0)
        n_reach[nn] = ok.sum(axis=0)
        d_win = np.where(win_ok, d, math.inf)
        nearest[nn] = d_win.min(axis=0) if len(pi) else math.inf
        a, b = np.nonzero(ok)
        if problem.excluded:
            keep = np.asarray([
                (provs[int(pi[x])].id, problem.projects[ix.need_project[int(nn[y])]].id)
                not in problem.excluded for x, y in zip(a, b, strict=True)], dtype=bool)
            a, b = a[keep], b[keep]
        out_p.append(pi[a])
        out_n.append(nn[b])
        out_d.append(d[a, b])
        out_r.append(~in_range[a, b])
    if out_p:
        prov = np.concatenate(out_p)
        need = np.concatenate(out_n)
        dist = np.concatenate(out_d)
        remote = np.concatenate(out_r)
    else:
        prov = need = np.zeros(0, dtype=int)
        dist = np.zeros(0)
        remote = np.zeros(0, dtype=bool)
    return _Pairs(prov, need, dist, remote, n_skill, n_level, n_window, n_reach, nearest)


def eligible_pairs(problem: MatchingProblem) -> list[tuple[str, str, int, float, bool]]:
    """List the eligible pairs of `problem`, ignoring budgets.

    Returns
    -------
    list of tuple
        ``(provider_id, project_id, need_index, distance_km, remote)`` for every provider and
        need that pass skill level, window overlap and distance-or-remote.
    """
    ix = _index(problem)
    pairs = _eligible(problem, ix)
    out = []
    for p, n, d, r in zip(pairs.prov, pairs.need, pairs.dist, pairs.remote, strict=True):
        out.append((problem.providers[int(p)].id, problem.projects[ix.need_project[int(n)]].id,
                    ix.need_local[int(n)], float(d), bool(r)))
    return out


def _fit(problem: MatchingProblem, ix: _Index, pairs: _Pairs) -> np.ndarray:
    """Fit score in [0, 1.2] per pair: higher level, shorter distance, priority neighbourhood."""
    provs = problem.providers
    lv = np.empty(len(pairs.prov))
    km = np.empty(len(pairs.prov))
    qpv = np.empty(len(pairs.prov))
    for e, (p, n) in enumerate(zip(pairs.prov, pairs.need, strict=True)):
        pr = problem.projects[ix.need_project[int(n)]]
        nd = pr.needs[ix.need_local[int(n)]]
        lv[e] = provs[int(p)].skills[nd.skill] - nd.min_level
        km[e] = max(provs[int(p)].max_km, EPS)
        qpv[e] = 1.0 if pr.qpv else 0.0
    level = np.minimum(lv, 4.0) / 4.0
    # Remote pairs count as half as close as the provider's limit: no travel, but no presence.
    near = np.where(pairs.remote, 0.5, 1.0 - np.minimum(pairs.dist / km, 1.0))
    return np.asarray(0.5 * level + 0.5 * near + 0.2 * qpv)


# ---------------------------------------------------------------------------- LP stages


@dataclass(slots=True)
class _Lp:
    """The GLOP model and the handles the stages need."""

    solver: pywraplp.Solver
    x: list[pywraplp.Variable]
    t: pywraplp.Variable
    hood_of_need: list[int]
    hoods: list[str]
    hood_need: np.ndarray
    hood_fixed: np.ndarray
    reachable: np.ndarray  # bool per neighbourhood: some need has a pair


def _neighbourhoods(problem: MatchingProblem, ix: _Index) -> tuple[list[str], list[int]]:
    """Neighbourhood names (sorted) and the neighbourhood index of each need."""
    hoods = sorted({pr.neighbourhood for pr in problem.projects if pr.needs})
    pos = {h: k for k, h in enumerate(hoods)}
    return hoods, [pos[problem.projects[j].neighbourhood] for j in ix.need_project]


def _build_lp(problem: MatchingProblem, ix: _Index, pairs: _Pairs, ub: np.ndarray,
              seed: int, lb: np.ndarray | None = None) -> _Lp:
    """Build the LP: x per eligible pair, budgets, and share_k >= t for reachable hoods."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with ortools
        raise RuntimeError("GLOP solver unavailable")
    solver.SetSolverSpecificParametersAsString(f"random_seed:{seed}")
    hoods, hood_of_need = _neighbourhoods(problem, ix)
    nh = len(hoods)
    hood_need = np.zeros(nh)
    hood_fixed = np.zeros(nh)
    for n, h in enumerate(ix.need_hours):
        hood_need[hood_of_need[n]] += h
    for _, n, h in ix.fixed_rows:
        hood_fixed[hood_of_need[n]] += h
    reachable = np.zeros(nh, dtype=bool)
    for n in pairs.need:
        reachable[hood_of_need[int(n)]] = True
    infinity = solver.infinity()
    prov_ct = [solver.Constraint(-infinity, float(r)) for r in ix.prov_rem]
    need_ct = [solver.Constraint(-infinity, float(r)) for r in ix.need_rem]
    comp_ct = {c: solver.Constraint(-infinity, r) for c, r in ix.company_rem.items()}
    # With no reachable neighbourhood, t would float free to 1; pin it to 0 instead.
    t = solver.NumVar(0.0, 1.0 if reachable.any() else 0.0, "t")
    hood_ct = []
    for k in range(nh):
        ct = solver.Constraint(-float(hood_fixed[k]), infinity)
        if reachable[k] and hood_need[k] > 0:
            ct.SetCoefficient(t, -float(hood_need[k]))
        hood_ct.append(ct)
    x: list[pywraplp.Variable] = []
    provs = problem.providers
    lows = [0.0] * len(ub) if lb is None else lb.tolist()
    for p, n, lo, u in zip(pairs.prov.tolist(), pairs.need.tolist(), lows, ub.tolist(),
                           strict=True):
        v = solver.NumVar(lo, u, "")
        x.append(v)
        prov_ct[p].SetCoefficient(v, 1.0)
        need_ct[n].SetCoefficient(v, 1.0)
        hood_ct[hood_of_need[n]].SetCoefficient(v, 1.0)
        comp = provs[p].company
        if comp is not None and comp in comp_ct:
            comp_ct[comp].SetCoefficient(v, 1.0)
    return _Lp(solver, x, t, hood_of_need, hoods, hood_need, hood_fixed, reachable)


def _solve_stage(lp: _Lp, deadline: float) -> bool:
    """Solve the current stage within the time left; True when GLOP proved optimality."""
    left = max(deadline - time.monotonic(), 0.05)
    lp.solver.SetTimeLimit(int(left * 1000))
    status = lp.solver.Solve()
    return bool(status == pywraplp.Solver.OPTIMAL)


MAX_FIX_ROUNDS = 2
CLOSING_RESERVE = 0.2  # share of the time limit kept for the (small) closing LP
PRUNE_ABOVE_PAIRS = 40_000  # below this, GLOP is fast enough on every eligible pair
FIT_WEIGHT = 1e-3  # fit only breaks ties (closing round): at most ~0.12% of the hours


def _solve_weighted(lp: _Lp, deadline: float, fit: np.ndarray | None = None,
                    fit_weight: float = 0.0) -> tuple[np.ndarray, bool]:
    """One solve of ``M * t + sum (1 + w * fit) * x`` with M above any hours trade-off.

    At a vertex this is the lexicographic optimum (worst share, then hours, then fit) up to
    LP tolerances, in one solve instead of two or three.
    """
    obj = lp.solver.Objective()
    obj.SetMaximization()
    if fit is None:
        for v in lp.x:
            obj.SetCoefficient(v, 1.0)
    else:
        for v, f in zip(lp.x, fit.tolist(), strict=True):
            obj.SetCoefficient(v, 1.0 + fit_weight * f)
    lp.t.SetLb(0.0)
    obj.SetCoefficient(lp.t, 100.0 * float(lp.hood_need.sum()))
    ok = _solve_stage(lp, deadline)
    x = np.asarray([v.solution_value() for v in lp.x]) if ok else np.zeros(len(lp.x))
    return x, ok


def _fix_fragments(problem: MatchingProblem, ix: _Index, pairs: _Pairs, lp: _Lp,
                   x: np.ndarray, lb: np.ndarray, ub: np.ndarray, chunk: np.ndarray,
                   allowed: np.ndarray) -> int:
    """Decide the pairs the LP left below their chunk: force them to the chunk or ban them.

    Pairs at or above their chunk get the chunk as lower bound (they stay open), so the next
    LP cannot shrink them into fragments. A fragment at half its chunk or more is forced to
    its chunk, largest first, while the lower bounds still fit every budget (so the next LP
    stays feasible); otherwise it is banned. `allowed` marks the pairs that are open or
    forced. Returns the number of fragments decided.
    """
    provs = problem.providers
    is_open = (x > EPS) & (x >= chunk - EPS)
    lb[is_open] = np.maximum(lb[is_open], np.minimum(chunk[is_open], ub[is_open]))
    # Pairs already forced (allowed) are settled even if `x` is stale (a cut fix round).
    frag = np.nonzero((x > EPS) & ~is_open & ~allowed)[0]
    allowed |= is_open
    if len(frag) == 0:
        return 0
    prov_lb = np.zeros(len(provs))
    need_lb = np.zeros(len(ix.need_hours))
    np.add.at(prov_lb, pairs.prov, lb)
    np.add.at(need_lb, pairs.need, lb)
    comp_lb: dict[str, float] = defaultdict(float)
    for e in np.nonzero(lb > 0)[0].tolist():
        c = provs[int(pairs.prov[e])].company
        if c is not None:
            comp_lb[c] += lb[e]
    for e in sorted(frag.tolist(), key=lambda e: -x[e]):
        p, n = int(pairs.prov[e]), int(pairs.need[e])
        c = provs[p].company
        g = chunk[e]
        # Rounding: a fragment under half its chunk is banned rather than inflated, so a
        # small LP trickle never pulls a full chunk away from a worse-served need.
        fits = (x[e] >= 0.5 * g
                and prov_lb[p] + g <= ix.prov_rem[p] + EPS
                and need_lb[n] + g <= ix.need_rem[n] + EPS
                and (c is None or c not in ix.company_rem
                     or comp_lb[c] + g <= ix.company_rem[c] + EPS))
        if fits:
            lb[e] = g
            allowed[e] = True
            prov_lb[p] += g
            need_lb[n] += g
            if c is not None:
                comp_lb[c] += g
            lp.x[e].SetLb(float(g))
        else:
            ub[e] = 0.0
            lp.x[e].SetUb(0.0)
    for e in np.nonzero(is_open)[0].tolist():
        lp.x[e].SetLb(float(lb[e]))
    return int(len(frag))


# ---------------------------------------------------------------------------- chunk repair


def _repair(problem: MatchingProblem, ix: _Index, pairs: _Pairs, fit: np.ndarray,
            x: np.ndarray, hood_of_need: list[int], hood_need: np.ndarray,
            hood_fixed: np.ndarray) -> tuple[np.ndarray, int]:
    """Make every new pair at least its provider's chunk, refilling worst hoods first.

    Returns the repaired hours per pair and the number of pairs changed.
    """
    provs = problem.providers
    chunk = np.asarray([provs[int(p)].min_chunk_hours for p in pairs.prov], dtype=float)
    x = np.floor(np.maximum(x, 0.0) / HOURS_QUANTUM + 1e-6) * HOURS_QUANTUM
    prov_slack = ix.prov_rem.copy()
    need_slack = ix.need_rem.copy()
    comp_slack = dict(ix.company_rem)
    company = [provs[int(p)].company for p in pairs.prov]
    np.subtract.at(prov_slack, pairs.prov, x)
    np.subtract.at(need_slack, pairs.need, x)
    for e in np.nonzero(x > 0)[0].tolist():
        c = company[e]
        if c is not None and c in comp_slack:
            comp_slack[c] -= x[e]

    def comp_room(e: int) -> float:
        c = company[e]
        return comp_slack[c] if c is not None and c in comp_slack else math.inf

    def add(e: int, h: float) -> None:
        x[e] += h
        prov_slack[pairs.prov[e]] -= h
        need_slack[pairs.need[e]] -= h
        c = company[e]
        if c is not None and c in comp_slack:
            comp_slack[c] -= h

    changed = 0
    frag = [int(e) for e in np.nonzero((x > 0) & (x < chunk - EPS))[0]]
    # Cheapest raises first: they keep the LP's shape with the least extra hours.
    frag.sort(key=lambda e: chunk[e] - x[e])
    for e in frag:
        gap = chunk[e] - x[e]
        if min(prov_slack[pairs.prov[e]], need_slack[pairs.need[e]], comp_room(e)) >= gap - EPS:
            add(e, gap)
        else:
            add(e, -x[e])
        changed += 1

    # Greedy refill, worst-served neighbourhood first. Slacks only shrink from here on, so
    # a pair that cannot take a step now never will: each neighbourhood keeps a heap of its
    # candidate pairs and drops dead ones lazily (linear-logarithmic overall).
    hood_got = hood_fixed.copy()
    hood_arr = np.asarray(hood_of_need, dtype=int)
    np.add.at(hood_got, hood_arr[pairs.need], x)
    cand: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for e, k in enumerate(hood_arr[pairs.need].tolist()):
        # Extending an open pair adds no fragment, so it comes before any new pair.
        cand[k].append((-(fit[e] + (1.0 if x[e] > 0 else 0.0)), e))
    for lst in cand.values():
        heapq.heapify(lst)
    heap = [(hood_got[k] / hood_need[k], k) for k in cand if hood_need[k] > 0]
    heapq.heapify(heap)

    def room_of(e: int) -> float:
        room = min(prov_slack[pairs.prov[e]], need_slack[pairs.need[e]], comp_room(e))
        room = math.floor(room / HOURS_QUANTUM + 1e-6) * HOURS_QUANTUM
        if room < HOURS_QUANTUM or (x[e] <= 0 and room < chunk[e] - EPS):
            return 0.0
        return float(room)

    while heap:
        _, k = heapq.heappop(heap)
        mine = cand[k]
        while mine and room_of(mine[0][1]) <= 0:
            heapq.heappop(mine)
        if not mine:
            continue  # this neighbourhood cannot get more; it leaves the queue
        neg, e = heapq.heappop(mine)
        room = room_of(e)
        was_open = x[e] > 0
        if heap:
            # Fill only up to the next-worst neighbourhood's share (plus one step), so the
            # refill keeps the neighbourhoods level instead of serving the first one popped.
            level = (heap[0][0] - hood_got[k] / hood_need[k]) * hood_need[k] + HOURS_QUANTUM
            step = math.ceil(max(level, 0.0) / HOURS_QUANTUM - 1e-6) * HOURS_QUANTUM
            floor = chunk[e] if not was_open else HOURS_QUANTUM
            room = min(room, max(step, floor))
        add(e, room)
        changed += 1
        hood_got[k] += room
        heapq.heappush(mine, (neg if was_open else neg - 1.0, e))
        heapq.heappush(heap, (hood_got[k] / hood_need[k], k))
    return x, changed


# ---------------------------------------------------------------------------- reasons


def _assignment_reasons(problem: MatchingProblem, pv: Provider, pr: Project, nd: Need,
                        hours: float, dist: float, remote: bool, fixed: bool,
                        prov_left: float, comp_left: float | None,
                        hood_share: float) -> tuple[Reason, ...]:
    """The plain-language reasons of one assignment."""
    lvl = pv.skills.get(nd.skill, 0)
    out = []
    if fixed:
        out.append(Reason("fixed", "Affectation déjà acceptée : conservée telle quelle.",
                          "Already accepted assignment: kept as it is."))
    out.append(Reason(
        "skill",
        f"Compétence « {nd.skill} » au niveau {lvl} (niveau {nd.min_level} demandé).",
        f"Skill '{nd.skill}' at level {lvl} ({nd.min_level} required)."))
    if remote:
        out.append(Reason(
            "remote",
            f"À distance : le projet et {pv.id} acceptent le travail à distance "
            f"({num_fr(dist)} km les séparent).",
            f"Remote: both the project and {pv.id} accept remote work "
            f"({num_en(dist)} km apart)."))
    else:
        out.append(Reason(
            "distance",
            f"À {num_fr(dist)} km du projet (limite du fournisseur : {num_fr(pv.max_km)} km).",
            f"{num_en(dist)} km from the project (provider's limit: {num_en(pv.max_km)} km)."))
    a, b = max(pv.window[0], pr.window[0]), min(pv.window[1], pr.window[1])
    out.append(Reason(
        "dates",
        f"Dates compatibles : disponible du jour {pv.window[0]} au jour {pv.window[1]}, "
        f"projet du jour {pr.window[0]} au jour {pr.window[1]} ({b - a + 1} jours en commun).",
        f"Dates overlap: available from day {pv.window[0]} to day {pv.window[1]}, project from "
        f"day {pr.window[0]} to day {pr.window[1]} ({b - a + 1} days in common)."))
    out.append(Reason(
        "budget",
        f"{num_fr(hours)} h affectées ; il reste {num_fr(prov_left)} h sur les "
        f"{num_fr(pv.hours)} h de {pv.id}.",
        f"{num_en(hours)} h assigned; {num_en(prov_left)} h left of "
        f"{pv.id}'s {num_en(pv.hours)} h."))
    if pv.company is not None and comp_left is not None:
        total = problem.agreements[pv.company]
        out.append(Reason(
            "agreement",
            f"Accord de mécénat de {pv.company} : {num_fr(comp_left)} h restantes sur "
            f"{num_fr(total)} h.",
            f"{pv.company}'s sponsorship agreement: {num_en(comp_left)} h left of "
            f"{num_en(total)} h."))
    qfr = "quartier prioritaire (QPV)" if pr.qpv else "quartier"
    qen = "priority neighbourhood (QPV)" if pr.qpv else "neighbourhood"
    out.append(Reason(
        "neighbourhood",
        f"{qfr[0].upper()}{qfr[1:]} {pr.neighbourhood} : {pct_fr(hood_share)} des heures demandées "
        f"couvertes.",
        f"{qen[0].upper()}{qen[1:]} {pr.neighbourhood}: {pct_en(hood_share)} of needed hours "
        f"covered."))
    return tuple(out)


def _uncovered_reasons(nd: Need, n: int, missing: float, got: float, pairs: _Pairs,
                       exhausted: int, chunk_blocked: int, agreement_blocked: int,
                       free: int) -> tuple[Reason, ...]:
    """Why a need keeps `missing` hours uncovered, from the most basic cause to budgets."""
    out = []
    if got > 0:
        out.append(Reason(
            "partial",
            f"Couvert en partie : {num_fr(got)} h sur {num_fr(nd.hours)} h.",
            f"Partly covered: {num_en(got)} h of {num_en(nd.hours)} h."))
    if pairs.n_skill[n] == 0:
        out.append(Reason("no_skill", f"Personne ne propose la compétence « {nd.skill} ».",
                          f"Nobody offers the skill '{nd.skill}'."))
    elif pairs.n_level[n] == 0:
        out.append(Reason(
            "no_level",
            f"{pairs.n_skill[n]} personne(s) ont la compétence « {nd.skill} », aucune au "
            f"niveau {nd.min_level} ou plus.",
            f"{pairs.n_skill[n]} provider(s) have '{nd.skill}', none at level "
            f"{nd.min_level} or above."))
    elif pairs.n_window[n] == 0:
        out.append(Reason(
            "no_dates",
            "Aucune personne qualifiée n'est disponible aux dates du projet.",
            "No qualified provider is available during the project's dates."))
    elif pairs.n_reach[n] == 0:
        near = pairs.nearest_km[n]
        out.append(Reason(
            "no_reach",
            f"Personne de qualifié à portée : le plus proche est à {num_fr(near)} km, au-delà "
            f"de sa limite, et le travail à distance n'est pas possible des deux côtés.",
            f"No qualified provider within reach: the nearest is {num_en(near)} km away, "
            f"beyond their limit, and remote work is not accepted on both sides."))
    else:
        if exhausted:
            out.append(Reason(
                "budgets_exhausted",
                f"{exhausted} des {pairs.n_reach[n]} personne(s) éligible(s) ont déjà donné "
                f"toutes leurs heures à d'autres besoins.",
                f"{exhausted} of the {pairs.n_reach[n]} eligible provider(s) have already "
                f"given all their hours to other needs."))
        if agreement_blocked:
            out.append(Reason(
                "agreement_exhausted",
                f"{agreement_blocked} offre(s) éligible(s) bloquée(s) : l'accord de mécénat "
                f"de leur entreprise est épuisé.",
                f"{agreement_blocked} eligible offer(s) blocked: their company's sponsorship "
                f"agreement is used up."))
        if chunk_blocked:
            out.append(Reason(
                "below_chunk",
                f"{chunk_blocked} personne(s) éligible(s) n'ont plus assez d'heures pour leur "
                f"durée minimale d'intervention, ou le reste du besoin est plus court.",
                f"{chunk_blocked} eligible provider(s) have too few hours left for their "
                f"minimum chunk, or the rest of the need is shorter than it."))
        if free:
            out.append(Reason(
                "fairness",
                f"{free} personne(s) éligible(s) ont encore des heures, gardées pour des "
                f"quartiers moins bien servis (équité entre quartiers).",
                f"{free} eligible provider(s) still have hours, kept for less-served "
                f"neighbourhoods (fairness across neighbourhoods)."))
    out.append(Reason("missing", f"{num_fr(missing)} h restent à couvrir.",
                      f"{num_en(missing)} h remain uncovered."))
    return tuple(out)


# ---------------------------------------------------------------------------- public API


def _top_k(group: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Mask of the `k` best-scored entries of each group (ties by position)."""
    if len(group) == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((-score, group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    sizes = np.diff(np.r_[starts, len(g)])
    rank = np.arange(len(g)) - np.repeat(starts, sizes)
    mask = np.zeros(len(group), dtype=bool)
    mask[order[rank < k]] = True
    return mask


def match_projects(problem: MatchingProblem, *, time_limit: float, seed: int,
                   locale: str = "fr", pairs_per_need: int | None = 16) -> MatchingResult:
    """Match providers' hours to project needs, fairest to the worst neighbourhood first.

    Parameters
    ----------
    problem
        Projects with needs, providers (offers and volunteers), company agreements and the
        accepted assignments to keep.
    time_limit
        Wall-clock seconds counted from the call; the LP rounds stop at it (20% is kept for
        the closing round). The rounding, refill and reason texts run after it (about 1 s on
        the 2,000-project benchmark). When even the first LP is cut, the greedy fill alone
        answers (status "fallback").
    seed
        GLOP random seed, for reproducible tie-breaking.
    locale
        "fr" or "en": the language `MatchingResult.locale` suggests for display; every reason
        carries both texts anyway.
    pairs_per_need
        On large instances (over 40,000 usable pairs), keep only this many best-fitting
        eligible pairs per need and per provider in the LP (None keeps all). Uncovered-need
        reasons still consider every eligible pair.

    Returns
    -------
    MatchingResult
        Fixed then new assignments with reasons, uncovered hours with reasons, the share of
        needed hours covered per neighbourhood and metrics (``lp_worst_share`` and
        ``lp_hours`` are the LP optima before the chunk repair).

    Raises
    ------
    ValueError
        On duplicate ids, a fixed assignment naming an unknown provider, project or need, or
        an unsupported locale.
    """
    loc = check_locale(locale)
    t0 = time.monotonic()
    deadline = t0 + max(time_limit, 0.1)
    ix = _index(problem)
    pairs = _eligible(problem, ix)
    provs = problem.providers
    # Upper bound per pair: a pair that cannot hold a full chunk can never be used (no
    # over-filling, no provider above its hours), so it is pruned before the LP.
    comp_cap = np.asarray([
        ix.company_rem.get(provs[int(p)].company or "", math.inf)
        if provs[int(p)].company is not None else math.inf for p in pairs.prov], dtype=float)
    ub = np.minimum(np.minimum(ix.prov_rem[pairs.prov], ix.need_rem[pairs.need]), comp_cap)
    chunk = np.asarray([provs[int(p)].min_chunk_hours for p in pairs.prov], dtype=float)
    keep = (ub >= chunk - EPS) & (ub > EPS)
    fit_all = _fit(problem, ix, pairs)
    if pairs_per_need is not None and int(keep.sum()) > PRUNE_ABOVE_PAIRS:
        # Sparsify: the best-fitting pairs of each need and of each provider. The LP keeps
        # almost all its value (each side still has many options) and solves several times
        # faster; it also steers the solution towards good fits.
        idx = np.nonzero(keep)[0]
        sub = _top_k(pairs.need[idx], fit_all[idx], pairs_per_need) | _top_k(
            pairs.prov[idx], fit_all[idx], pairs_per_need)
        keep = np.zeros_like(keep)
        keep[idx[sub]] = True
    live = _Pairs(pairs.prov[keep], pairs.need[keep], pairs.dist[keep], pairs.remote[keep],
                  pairs.n_skill, pairs.n_level, pairs.n_window, pairs.n_reach,
                  pairs.nearest_km)
    ub = ub[keep]
    chunk_live = chunk[keep]
    fit = fit_all[keep]
    t_build = time.monotonic()
    lp = _build_lp(problem, ix, live, ub, seed)
    t_lp0 = time.monotonic()
    # Round 0 as one weighted solve: with the fairness weight above any hours trade-off it
    # gives the same max-min share as two lexicographic stages, in one solve instead of two.
    x, optimal = _solve_weighted(lp, deadline)
    t_star = lp.t.solution_value() if optimal else 0.0
    h_star = float(x.sum())
    lb = np.zeros(len(ub))
    allowed = np.zeros(len(ub), dtype=bool)
    rounds = 0
    closed = False
    # Fix-and-resolve: each round settles the fragments of the last LP and re-solves a fresh
    # model with the new bounds (a fix round costs about a first solve plus a build; the
    # closing round much less). The first fix round brings most of the gain, so it starts
    # on a looser estimate; every fix round is cut at the closing round's reserve.
    first = time.monotonic() - t_lp0
    reserve = CLOSING_RESERVE * time_limit
    while (optimal and rounds < MAX_FIX_ROUNDS
           and deadline - reserve - time.monotonic() > (2.0 if rounds else 1.0) * first):
        if _fix_fragments(problem, ix, live, lp, x, lb, ub, chunk_live, allowed) == 0:
            break
        rounds += 1
        # The fix round may not eat into the closing round's reserve. A fresh model solves
        # faster than the old one warm-started from a basis the new bounds make infeasible.
        lp = _build_lp(problem, ix, live, ub, seed, lb=lb)
        x2, ok = _solve_weighted(lp, deadline - reserve)
        if not ok:
            break
        x = x2
    if optimal and time.monotonic() < deadline:
        # Closing round: settle the last fragments, then allow only pairs that already have
        # their chunk as lower bound. Every positive value of that LP is a valid assignment,
        # and the LP still redistributes hours among them to keep the worst share high.
        # It is built afresh on the settled pairs only: small, so quick to build and solve,
        # and independent of the basis a fix round cut by the time limit left behind.
        _fix_fragments(problem, ix, live, lp, x, lb, ub, chunk_live, allowed)
        sel = np.nonzero(allowed)[0]
        sub = _Pairs(live.prov[sel], live.need[sel], live.dist[sel], live.remote[sel],
                     live.n_skill, live.n_level, live.n_window, live.n_reach, live.nearest_km)
        closing = _build_lp(problem, ix, sub, ub[sel], seed, lb=lb[sel])
        x2, ok = _solve_weighted(closing, deadline, fit[sel], FIT_WEIGHT)
        if ok:
            x = np.zeros(len(ub))
            x[sel] = x2
            closed = True
    t_lp1 = time.monotonic()
    x, changed = _repair(problem, ix, live, fit, x, lp.hood_of_need, lp.hood_need,
                         lp.hood_fixed)
    t_rep = time.monotonic()
    result = _extract(problem, ix, pairs, live, x, lp, loc)
    status = "empty" if len(ix.need_hours) == 0 else (
        "feasible" if closed else "partial" if optimal else "fallback")
    got = result.neighbourhood_share
    reach = [h for h, r in zip(lp.hoods, lp.reachable.tolist(), strict=True) if r]
    worst = min((got[h] for h in reach), default=0.0)
    metrics: dict[str, float | int | str] = {
        "hours_needed": round(float(ix.need_hours.sum()), 2),
        "hours_assigned": round(sum(a.hours for a in result.assignments), 2),
        "hours_fixed": round(sum(h for _, _, h in ix.fixed_rows), 2),
        "worst_share": round(worst, 6),
        "lp_worst_share": round(t_star, 6),
        "lp_hours": round(h_star + sum(h for _, _, h in ix.fixed_rows), 2),
        "eligible_pairs": int(len(pairs.prov)),
        "lp_variables": int(len(live.prov)),
        "fix_rounds": rounds,
        "closing_round": int(closed),
        "repaired_pairs": changed,
        "neighbourhoods": len(lp.hoods),
        "unreachable_neighbourhoods": len(lp.hoods) - len(reach),
        "seconds_eligibility": round(t_build - t0, 3),
        "seconds_build": round(t_lp0 - t_build, 3),
        "seconds_lp": round(t_lp1 - t_lp0, 3),
        "seconds_repair": round(t_rep - t_lp1, 3),
        "seconds_total": round(time.monotonic() - t0, 3),
    }
    return MatchingResult(status, result.assignments, result.uncovered, got, metrics, loc)


def _extract(problem: MatchingProblem, ix: _Index, all_pairs: _Pairs, live: _Pairs,
             x: np.ndarray, lp: _Lp, locale: Locale) -> MatchingResult:
    """Turn hours per pair into assignments and uncovered needs, each with reasons."""
    provs = problem.providers
    prov_left = ix.prov_rem.copy()
    need_got = ix.need_hours - ix.need_rem
    comp_left = dict(ix.company_rem)
    used = np.nonzero(x > EPS)[0]
    for e in used.tolist():
        p, n = int(live.prov[e]), int(live.need[e])
        prov_left[p] -= x[e]
        need_got[n] += x[e]
        c = provs[p].company
        if c is not None and c in comp_left:
            comp_left[c] -= x[e]
    hood_got = lp.hood_fixed.copy()
    for e in used.tolist():
        hood_got[lp.hood_of_need[int(live.need[e])]] += x[e]
    share = {h: (float(hood_got[k] / lp.hood_need[k]) if lp.hood_need[k] > 0 else 1.0)
             for k, h in enumerate(lp.hoods)}

    def reasons_for(p: int, n: int, hours: float, dist: float, remote: bool,
                    fixed: bool) -> tuple[Reason, ...]:
        pv = provs[p]
        pr = problem.projects[ix.need_project[n]]
        c = pv.company
        cl = max(comp_left[c], 0.0) if c is not None and c in comp_left else None
        return _assignment_reasons(problem, pv, pr, pr.needs[ix.need_local[n]], hours, dist,
                                   remote, fixed, max(prov_left[p], 0.0), cl,
                                   share[pr.neighbourhood])

    assignments: list[Assignment] = []
    for p, n, h in ix.fixed_rows:
        pv, pr = provs[p], problem.projects[ix.need_project[n]]
        d = distance_km(pv.lat, pv.lon, pr.lat, pr.lon)
        remote = d > pv.max_km
        assignments.append(Assignment(pv.id, pr.id, ix.need_local[n],
                                      pr.needs[ix.need_local[n]].skill, h, True,
                                      reasons_for(p, n, h, d, remote, True)))
    for e in used.tolist():
        p, n = int(live.prov[e]), int(live.need[e])
        pr = problem.projects[ix.need_project[n]]
        h = round(float(x[e]), 2)
        assignments.append(Assignment(provs[p].id, pr.id, ix.need_local[n],
                                      pr.needs[ix.need_local[n]].skill, h, False,
                                      reasons_for(p, n, h, float(live.dist[e]),
                                                  bool(live.remote[e]), False)))

    # Diagnostics for uncovered needs: what stops each eligible provider from giving more.
    uncovered: list[Uncovered] = []
    by_need: dict[int, list[int]] = defaultdict(list)
    for p, n in zip(all_pairs.prov.tolist(), all_pairs.need.tolist(), strict=True):
        by_need[n].append(p)
    for n, hneed in enumerate(ix.need_hours.tolist()):
        missing = float(hneed - need_got[n])
        if missing < HOURS_QUANTUM - EPS:
            continue
        pr = problem.projects[ix.need_project[n]]
        nd = pr.needs[ix.need_local[n]]
        exhausted = chunk_blocked = agreement_blocked = free = 0
        for p in by_need.get(n, []):
            pv = provs[p]
            c = pv.company
            c_left = comp_left[c] if c is not None and c in comp_left else math.inf
            if prov_left[p] < HOURS_QUANTUM:
                exhausted += 1
            elif c_left < HOURS_QUANTUM:
                agreement_blocked += 1
            elif min(prov_left[p], missing, c_left) < pv.min_chunk_hours - EPS:
                chunk_blocked += 1
            else:
                free += 1
        uncovered.append(Uncovered(pr.id, ix.need_local[n], nd.skill, round(float(missing), 2),
                                   _uncovered_reasons(nd, n, missing, float(need_got[n]),
                                                      all_pairs, exhausted, chunk_blocked,
                                                      agreement_blocked, free)))
    return MatchingResult("", tuple(assignments), tuple(uncovered), share, {}, locale)
