"""Benchmark of project matching against LP bounds and a greedy baseline.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/matching.py [--sizes 300x300,2000x2100] [--seed 7]

For each generated scenario (hours scarce, about 30% of the need) it prints, for the solver
and for a greedy baseline (best-scored pair first): wall time, hours assigned and their ratio
to the most hours the achieved fairness allows, the worst neighbourhood's coverage and its
ratio to the LP max-min bound, violations found by an independent checker, and the share of
assignments with reasons in both languages. Both bounds are computed here with GLOP on the
benchmark's own eligibility (chunks relaxed), not with the solver's code.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import defaultdict
from typing import Any

import numpy as np
from geopy.distance import great_circle
from ortools.linear_solver import pywraplp

from baskets.matching.projects import (
    MatchingProblem,
    Need,
    Project,
    Provider,
    match_projects,
)

SKILLS = ["comptabilite", "juridique", "site-web", "graphisme", "logistique", "cuisine",
          "soutien-scolaire", "informatique", "communication", "bricolage", "traduction",
          "gestion-projet"]


def generate(n_projects: int, n_providers: int, seed: int, scarcity: float = 0.3
             ) -> MatchingProblem:
    """Cities of a few neighbourhoods each; providers around the cities; hours ~30% of need."""
    rng = random.Random(seed)
    n_cities = max(3, n_projects // 100)
    cities = [(rng.uniform(43.3, 49.5), rng.uniform(-0.5, 7.5)) for _ in range(n_cities)]
    hoods: list[tuple[str, float, float, bool]] = []
    for c, (la, lo) in enumerate(cities):
        for h in range(rng.randint(3, 6)):
            hoods.append((f"C{c}-Q{h}", la + rng.uniform(-0.04, 0.04),
                          lo + rng.uniform(-0.05, 0.05), rng.random() < 0.8))
    projects = []
    for j in range(n_projects):
        name, la, lo, qpv = rng.choice(hoods)
        start = rng.randint(0, 60)
        needs = tuple(
            Need(skill=s, hours=float(rng.choice([6, 8, 10, 12, 16, 20, 24, 30, 40])),
                 min_level=rng.randint(1, 4))
            for s in rng.sample(SKILLS, rng.randint(1, 3)))
        projects.append(Project(
            id=f"P{j}", neighbourhood=name, qpv=qpv, lat=la + rng.gauss(0, 0.008),
            lon=lo + rng.gauss(0, 0.01), remote_ok=rng.random() < 0.4,
            window=(start, start + rng.randint(20, 90)), needs=needs))
    total_need = sum(nd.hours for p in projects for nd in p.needs)
    companies = [f"Entreprise-{k}" for k in range(max(2, n_providers // 25))]
    raw_hours = [rng.uniform(0.5, 1.5) for _ in range(n_providers)]
    scale = scarcity * total_need / sum(raw_hours)
    providers = []
    for i in range(n_providers):
        la, lo = rng.choice(cities)
        offer = rng.random() < 0.6
        start = rng.randint(0, 50)
        providers.append(Provider(
            id=f"{'O' if offer else 'V'}{i}",
            skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(1, 3))},
            hours=float(max(2, round(raw_hours[i] * scale))),
            lat=la + rng.gauss(0, 0.06), lon=lo + rng.gauss(0, 0.08),
            window=(start, start + rng.randint(30, 120)),
            max_km=float(rng.choice([5, 10, 15, 25, 40])),
            min_chunk_hours=float(rng.choice([4, 6, 8]) if offer else rng.choice([1, 2, 3])),
            remote_ok=rng.random() < 0.3,
            company=rng.choice(companies) if offer else None))
    per_company: dict[str, float] = defaultdict(float)
    for pv in providers:
        if pv.company is not None:
            per_company[pv.company] += pv.hours
    # Agreements bind: a company signs for less than the sum of its offers.
    agreements = {c: round(0.8 * h) for c, h in per_company.items()}
    return MatchingProblem(tuple(projects), tuple(providers), agreements)


# ---------------------------------------------------------------- independent evaluation

Needs = list[tuple[int, int]]  # (project index, need index)


def own_pairs(pb: MatchingProblem) -> tuple[Needs, list[tuple[int, int, float]]]:
    """Eligible (provider, need) pairs computed here, without the solver's code."""
    needs = [(j, k) for j, p in enumerate(pb.projects) for k in range(len(p.needs))]
    plat = np.radians([p.lat for p in pb.providers])
    plon = np.radians([p.lon for p in pb.providers])
    pairs = []
    for n, (j, k) in enumerate(needs):
        pr = pb.projects[j]
        nd = pr.needs[k]
        la, lo = math.radians(pr.lat), math.radians(pr.lon)
        d = 2 * 6371.009 * np.arcsin(np.sqrt(
            np.sin((plat - la) / 2) ** 2
            + np.cos(plat) * math.cos(la) * np.sin((plon - lo) / 2) ** 2))
        for i, pv in enumerate(pb.providers):
            if pv.skills.get(nd.skill, -1) < nd.min_level:
                continue
            if pv.window[0] > pr.window[1] or pr.window[0] > pv.window[1]:
                continue
            if d[i] <= pv.max_km or (pv.remote_ok and pr.remote_ok):
                pairs.append((i, n, float(d[i])))
    return needs, pairs


def lp_bounds(pb: MatchingProblem, needs: Needs, pairs: list[tuple[int, int, float]],
              worst_floor: float | None) -> tuple[float, float]:
    """GLOP with chunks relaxed: (max-min share, max hours with every share >= floor)."""
    s = pywraplp.Solver.CreateSolver("GLOP")
    inf = s.infinity()
    hood = [pb.projects[j].neighbourhood for j, _ in needs]
    hood_need: dict[str, float] = defaultdict(float)
    for n, (j, k) in enumerate(needs):
        hood_need[hood[n]] += pb.projects[j].needs[k].hours
    reach = {hood[n] for _, n, _ in pairs}
    pc = [s.Constraint(-inf, p.hours) for p in pb.providers]
    nc = [s.Constraint(-inf, pb.projects[j].needs[k].hours) for j, k in needs]
    cc = {c: s.Constraint(-inf, h) for c, h in pb.agreements.items()}
    t = s.NumVar(0, 1, "t")
    hc = {h: s.Constraint(0, inf) for h in reach}
    for h in reach:
        hc[h].SetCoefficient(t, -hood_need[h])
    xs = []
    for i, n, _ in pairs:
        v = s.NumVar(0, inf, "")
        xs.append(v)
        pc[i].SetCoefficient(v, 1)
        nc[n].SetCoefficient(v, 1)
        hc[hood[n]].SetCoefficient(v, 1)
        comp = pb.providers[i].company
        if comp in cc:
            cc[comp].SetCoefficient(v, 1)
    obj = s.Objective()
    obj.SetMaximization()
    obj.SetCoefficient(t, 1)
    assert s.Solve() == s.OPTIMAL
    t_star = t.solution_value()
    t.SetBounds(worst_floor if worst_floor is not None else t_star, 1)
    obj.SetCoefficient(t, 0)
    for v in xs:
        obj.SetCoefficient(v, 1)
    assert s.Solve() == s.OPTIMAL
    return t_star, obj.Value()


def check(pb: MatchingProblem, assignments: list[dict[str, Any]]) -> int:
    """Count rule violations independently (geopy distances)."""
    provs = {p.id: p for p in pb.providers}
    projs = {p.id: p for p in pb.projects}
    viol = 0
    per_p: dict[str, float] = defaultdict(float)
    per_c: dict[str, float] = defaultdict(float)
    per_n: dict[tuple[str, int], float] = defaultdict(float)
    for a in assignments:
        pv, pr = provs[a["provider"]], projs[a["project"]]
        nd = pr.needs[a["need"]]
        h = a["hours"]
        per_p[pv.id] += h
        per_n[(pr.id, a["need"])] += h
        if pv.company is not None:
            per_c[pv.company] += h
        if pv.skills.get(nd.skill, -1) < nd.min_level:
            viol += 1
        if pv.window[0] > pr.window[1] or pr.window[0] > pv.window[1]:
            viol += 1
        d = great_circle((pv.lat, pv.lon), (pr.lat, pr.lon)).km
        if d > pv.max_km + 1e-9 and not (pv.remote_ok and pr.remote_ok):
            viol += 1
        if h < pv.min_chunk_hours - 1e-9 or h <= 0:
            viol += 1
    viol += sum(1 for p, h in per_p.items() if h > provs[p].hours + 1e-6)
    viol += sum(1 for c, h in per_c.items() if c in pb.agreements
                and h > pb.agreements[c] + 1e-6)
    viol += sum(1 for (j, k), h in per_n.items() if h > projs[j].needs[k].hours + 1e-6)
    return viol


def worst_share(pb: MatchingProblem, needs: Needs, pairs: list[tuple[int, int, float]],
                assignments: list[dict[str, Any]]) -> float:
    """Worst coverage over neighbourhoods that have at least one eligible pair."""
    hood_need: dict[str, float] = defaultdict(float)
    for j, k in needs:
        hood_need[pb.projects[j].neighbourhood] += pb.projects[j].needs[k].hours
    reach = {pb.projects[needs[n][0]].neighbourhood for _, n, _ in pairs}
    got: dict[str, float] = defaultdict(float)
    projs = {p.id: p for p in pb.projects}
    for a in assignments:
        got[projs[a["project"]].neighbourhood] += a["hours"]
    return min(got[h] / hood_need[h] for h in reach)


def greedy(pb: MatchingProblem, needs: Needs, pairs: list[tuple[int, int, float]]
           ) -> list[dict[str, Any]]:
    """Baseline: best-scored pair first (level, distance, priority neighbourhood)."""
    def score(pair: tuple[int, int, float]) -> float:
        i, n, d = pair
        pv, (j, k) = pb.providers[i], needs[n]
        pr = pb.projects[j]
        nd = pr.needs[k]
        lvl = min(pv.skills[nd.skill] - nd.min_level, 4) / 4
        near = 0.5 if d > pv.max_km else 1 - min(d / max(pv.max_km, 1e-6), 1)
        return 0.5 * lvl + 0.5 * near + (0.2 if pr.qpv else 0)

    prem = [p.hours for p in pb.providers]
    nrem = [pb.projects[j].needs[k].hours for j, k in needs]
    crem = dict(pb.agreements)
    out = []
    for i, n, _d in sorted(pairs, key=score, reverse=True):
        pv = pb.providers[i]
        c = crem.get(pv.company, math.inf) if pv.company else math.inf
        h = math.floor(min(prem[i], nrem[n], c) * 4) / 4
        if h <= 0 or h < pv.min_chunk_hours:
            continue
        prem[i] -= h
        nrem[n] -= h
        if pv.company in crem:
            crem[pv.company] -= h
        j, k = needs[n]
        out.append({"provider": pv.id, "project": pb.projects[j].id, "need": k, "hours": h,
                    "reasons": [], "reasons_fr": []})
    return out


def report(name: str, pb: MatchingProblem, needs: Needs, pairs: list[tuple[int, int, float]],
           t_lp: float, seconds: float, assignments: list[dict[str, Any]]) -> None:
    """Print one line of figures for one method."""
    hours = sum(a["hours"] for a in assignments)
    worst = worst_share(pb, needs, pairs, assignments)
    _, h_max = lp_bounds(pb, needs, pairs, worst_floor=worst)
    viol = check(pb, assignments)
    with_reasons = sum(1 for a in assignments if a["reasons"] and a["reasons_fr"])
    share = with_reasons / len(assignments) if assignments else 1.0
    print(f"  {name:<7} wall {seconds:6.2f} s | hours {hours:9.1f} = {100 * hours / h_max:6.2f}%"
          f" of {h_max:9.1f} (max at this fairness) | worst hood {100 * worst:6.2f}% ="
          f" {100 * worst / t_lp if t_lp > 0 else 100.0:6.2f}% of LP {100 * t_lp:6.2f}% |"
          f" violations {viol} | reasons {100 * share:5.1f}% of {len(assignments)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="300x300,2000x2100")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--time-limit", type=float, default=15.0)
    args = ap.parse_args()
    for size in args.sizes.split(","):
        n_proj, n_prov = (int(v) for v in size.split("x"))
        pb = generate(n_proj, n_prov, args.seed)
        need_h = sum(nd.hours for p in pb.projects for nd in p.needs)
        offer_h = sum(p.hours for p in pb.providers)
        print(f"{n_proj} projects / {n_prov} providers: {need_h:.0f} h needed, "
              f"{offer_h:.0f} h offered ({100 * offer_h / need_h:.0f}%)")
        t0 = time.perf_counter()
        res = match_projects(pb, time_limit=args.time_limit, seed=args.seed)
        wall = time.perf_counter() - t0
        sol = [{"provider": a.provider, "project": a.project, "need": a.need, "hours": a.hours,
                "reasons": [r.en for r in a.reasons], "reasons_fr": [r.fr for r in a.reasons]}
               for a in res.assignments]
        t1 = time.perf_counter()
        needs, pairs = own_pairs(pb)
        t_lp, _ = lp_bounds(pb, needs, pairs, worst_floor=None)
        shown = {k: v for k, v in res.metrics.items()
                 if "seconds" in k or k in ("fix_rounds", "closing_round", "lp_variables")}
        print(f"  (bounds: {len(pairs)} eligible pairs, computed in "
              f"{time.perf_counter() - t1:.1f} s; solver status {res.status}, metrics {shown})")
        report("solver", pb, needs, pairs, t_lp, wall, sol)
        t0 = time.perf_counter()
        base = greedy(pb, needs, pairs)
        report("greedy", pb, needs, pairs, t_lp, time.perf_counter() - t0, base)


if __name__ == "__main__":
    main()
