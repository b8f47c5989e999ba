"""Benchmark of the fair allocation: 500, 20,000 and 100,000 households (not a test).

Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/allocation.py [--sizes 500 20000 100000] \
        [--seed 7] [--time-limit 20]

Peak RSS is the process's high-water mark right after the solve (it includes the generated
week and any smaller size run before), so run one size alone for its own figure.

For each generated week (supply at 80% of need) it prints the solver's wall time and peak RSS,
its worst coverage against the LP-relaxation bound, its kg against the most kg that worst
coverage allows, rule violations, and the same for the spreadsheet baseline (each lot split
among eligible households in proportion to need, rounded down). The bounds, the checker and the
baseline are written here, independently of the solver's code.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from baskets.optimizer.allocation import (
    AllocationProblem,
    Basket,
    Household,
    Item,
    Lot,
    Point,
    Policy,
    solve_allocation,
)

# (product, category, piece kg or None, shelf life in days)
PRODUCTS = [
    ("carrot", "vegetable", None, 21), ("potato", "vegetable", None, 60),
    ("tomato", "vegetable", None, 6), ("courgette", "vegetable", None, 7),
    ("leek", "vegetable", None, 10), ("onion", "vegetable", None, 45),
    ("lettuce", "vegetable", 0.4, 4), ("cabbage", "vegetable", 1.2, 20),
    ("squash", "vegetable", 1.5, 60), ("cucumber", "vegetable", 0.35, 8),
    ("apple", "fruit", None, 40), ("pear", "fruit", None, 14), ("peach", "fruit", None, 5),
    ("melon", "fruit", 1.0, 7), ("strawberry", "fruit", 0.25, 3), ("plum", "fruit", None, 6),
    ("yogurt", "dairy", 0.5, 20), ("cheese", "dairy", 0.25, 30), ("milk", "dairy", 1.0, 7),
    ("egg", "egg", 0.36, 25), ("bread", "bakery", 0.5, 3), ("lentil", "grocery", None, 300),
    ("chicken", "meat", 1.3, 5), ("beef", "meat", None, 4),
]
CITIES = [(43.30, 5.40), (47.75, 7.34), (48.86, 2.35), (45.76, 4.84), (50.63, 3.06),
          (43.60, 1.44), (44.84, -0.58), (47.22, -1.55), (48.58, 7.75), (43.70, 7.26)]
POLICY = Policy(kg_per_consumption_unit=4.0, max_coverage=1.25,
                min_category_share={"vegetable": 0.4}, max_product_share=0.5)


def generate(households: int, seed: int) -> AllocationProblem:
    """A national week: points around ten cities, lots from farms nearby, supply 80% of need."""
    rng = np.random.default_rng(seed)
    n_points = min(300, max(10, households // 300))
    n_lots = min(400, max(40, households // 50))
    points = []
    for i in range(n_points):
        lat, lon = CITIES[i % len(CITIES)]
        points.append(Point(
            id=f"P{i}", lat=lat + rng.normal(0, 0.05), lon=lon + rng.normal(0, 0.05),
            # One point in ten is a small room that holds less than its households' need.
            capacity_kg=None,
        ))
    hh = []
    for i in range(households):
        adults = int(rng.choice([1, 1, 2, 2, 2, 3]))
        children = int(rng.choice([0, 0, 1, 2, 3, 4]))
        r = rng.random()
        cats: frozenset[str] = frozenset()
        prods: frozenset[str] = frozenset()
        if r < 0.08:
            cats = frozenset({"meat"})
        elif r < 0.12:
            cats = frozenset({"dairy"})
        elif r < 0.15:
            prods = frozenset({"egg"})
        elif r < 0.17:
            prods = frozenset({"strawberry", "peach"})
        hh.append(Household(id=f"H{i}", point=f"P{int(rng.integers(n_points))}",
                            adults=adults, children=children,
                            excluded_products=prods, excluded_categories=cats))
    need = sum(h.consumption_units for h in hh) * POLICY.kg_per_consumption_unit
    # Vegetables about half the supply, as in a summer week of a vegetable-growing region.
    weights = np.array([3.0 if p[1] == "vegetable" else 1.0 for p in PRODUCTS])
    kinds = rng.choice(len(PRODUCTS), size=n_lots, p=weights / weights.sum())
    sizes = rng.lognormal(0.0, 0.6, size=n_lots)
    sizes *= 0.8 * need / sizes.sum()
    lots = []
    for j in range(n_lots):
        product, category, unit, shelf = PRODUCTS[int(kinds[j])]
        lat, lon = CITIES[int(rng.integers(len(CITIES)))]
        lots.append(Lot(id=f"L{j}", product=product, category=category,
                        quantity_kg=round(float(sizes[j]), 1), unit_kg=unit,
                        shelf_life_days=float(shelf), lat=lat + rng.normal(0, 0.3),
                        lon=lon + rng.normal(0, 0.3)))
    capped = {}
    by_point: dict[str, float] = defaultdict(float)
    for h in hh:
        by_point[h.point] += h.consumption_units * POLICY.kg_per_consumption_unit
    for i, p in enumerate(points):
        if i % 10 == 3:
            capped[p.id] = Point(p.id, p.lat, p.lon, capacity_kg=round(0.6 * by_point[p.id], 1))
    points = [capped.get(p.id, p) for p in points]
    return AllocationProblem(POLICY, tuple(points), tuple(lots), tuple(hh))


# ---------------------------------------------------------------- independent LP bounds
@dataclass
class _Group:
    point: str | None
    eligible: list[int]
    excluded_categories: frozenset[str]
    need: float


def _groups(problem: AllocationProblem) -> list[_Group]:
    """Exact aggregation for the LP: households differing only in need are interchangeable."""
    capped = {p.id for p in problem.points if p.capacity_kg is not None}
    groups: dict[tuple[object, ...], _Group] = {}
    for h in problem.households:
        eligible = [j for j, lot in enumerate(problem.lots)
                    if lot.product not in h.excluded_products
                    and lot.category not in h.excluded_categories]
        point = h.point if h.point in capped else None
        cats = frozenset(h.excluded_categories)
        key = (point, tuple(eligible), cats)
        g = groups.setdefault(key, _Group(point, eligible, cats, 0.0))
        g.need += h.consumption_units * problem.policy.kg_per_consumption_unit
    return list(groups.values())


def lp_bounds(problem: AllocationProblem, worst: float) -> tuple[float, float]:
    """(LP max-min coverage, LP max kg when everyone gets at least ``worst``)."""
    pol = problem.policy
    groups = _groups(problem)

    def model(floor: float | None) -> float:
        s = pywraplp.Solver.CreateSolver("GLOP")
        t = s.NumVar(0, s.infinity(), "t")
        lot_use: dict[int, list[object]] = defaultdict(list)
        point_use: dict[str, list[object]] = defaultdict(list)
        everything = []
        for g in groups:
            xs = {j: s.NumVar(0, s.infinity(), "") for j in g.eligible}
            for j, v in xs.items():
                lot_use[j].append(v)
            tot = s.Sum(list(xs.values()))
            everything.extend(xs.values())
            if floor is None:
                s.Add(tot >= t * g.need)
            else:
                s.Add(tot >= floor * g.need)
            s.Add(tot <= pol.max_coverage * g.need)
            for cat, share in pol.min_category_share.items():
                if cat not in g.excluded_categories:
                    part = [v for j, v in xs.items() if problem.lots[j].category == cat]
                    s.Add(s.Sum(part) >= share * tot)
            prods: dict[str, list[object]] = defaultdict(list)
            for j, v in xs.items():
                prods[problem.lots[j].product].append(v)
            for vs in prods.values():
                s.Add(s.Sum(vs) <= pol.max_product_share * tot)
            if g.point is not None:
                point_use[g.point].extend(xs.values())
        for j, vs in lot_use.items():
            lot = problem.lots[j]
            usable = lot.quantity_kg if lot.unit_kg is None else (
                math.floor(lot.quantity_kg / lot.unit_kg + 1e-9) * lot.unit_kg)
            s.Add(s.Sum(vs) <= usable)
        caps = {p.id: p.capacity_kg for p in problem.points}
        for p, vs in point_use.items():
            s.Add(s.Sum(vs) <= caps[p])
        s.Maximize(t if floor is None else s.Sum(everything))
        assert s.Solve() == pywraplp.Solver.OPTIMAL
        return float(s.Objective().Value())

    return model(None), model(worst * (1 - 1e-9))


# ---------------------------------------------------------------- independent checker
def violations(problem: AllocationProblem, baskets: tuple[Basket, ...] | list[Basket],
               *, shares: bool = True) -> dict[str, int]:
    """Count broken rules; shares may be off by one piece of the basket, as the issue allows."""
    pol = problem.policy
    lots = {lot.id: lot for lot in problem.lots}
    used: dict[str, float] = defaultdict(float)
    per_point: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    hh = {h.id: h for h in problem.households}
    for b in baskets:
        h = hh[b.household]
        need = h.consumption_units * pol.kg_per_consumption_unit
        total = 0.0
        cat: dict[str, float] = defaultdict(float)
        prod: dict[str, float] = defaultdict(float)
        piece = 0.0
        for it in b.items:
            lot = lots[it.lot]
            used[it.lot] += it.kg
            total += it.kg
            cat[lot.category] += it.kg
            prod[lot.product] += it.kg
            if lot.product in h.excluded_products or lot.category in h.excluded_categories:
                count["exclusion"] += 1
            if lot.unit_kg is not None:
                piece = max(piece, lot.unit_kg)
                n = it.kg / lot.unit_kg
                if abs(n - round(n)) > 1e-6 or (it.pieces is not None and it.pieces != round(n)):
                    count["whole_pieces"] += 1
        per_point[h.point] += total
        if total > pol.max_coverage * need + 1e-6:
            count["max_coverage"] += 1
        if shares and total > 0:
            tol = piece + 1e-6
            for c, s in pol.min_category_share.items():
                if c not in h.excluded_categories and cat[c] < s * total - tol:
                    count["min_category_share"] += 1
            if max(prod.values()) > pol.max_product_share * total + tol:
                count["max_product_share"] += 1
    for lid, kg in used.items():
        if kg > lots[lid].quantity_kg + 1e-6:
            count["lot_exceeded"] += 1
    for p in problem.points:
        if p.capacity_kg is not None and per_point[p.id] > p.capacity_kg + 1e-6:
            count["point_capacity_kg"] += 1
    return dict(count)


# ---------------------------------------------------------------- spreadsheet baseline
def baseline(problem: AllocationProblem) -> list[Basket]:
    """Each lot split among eligible households in proportion to need, rounded down."""
    pol = problem.policy
    need = np.array([h.consumption_units * pol.kg_per_consumption_unit
                     for h in problem.households])
    items: list[list[Item]] = [[] for _ in problem.households]
    for lot in problem.lots:
        ok = np.array([lot.product not in h.excluded_products
                       and lot.category not in h.excluded_categories
                       for h in problem.households])
        denom = need[ok].sum()
        if denom <= 0:
            continue
        share = np.where(ok, lot.quantity_kg * need / denom, 0.0)
        if lot.unit_kg is None:
            kg = np.floor(share * 1000 + 1e-9) / 1000
            pieces = None
        else:
            pieces = np.floor(share / lot.unit_kg + 1e-9)
            kg = pieces * lot.unit_kg
        for i in np.flatnonzero(kg > 0):
            items[i].append(Item(lot.id, float(kg[i]),
                                 None if pieces is None else int(pieces[i])))
    out = []
    for h, its, n in zip(problem.households, items, need, strict=True):
        total = sum(i.kg for i in its)
        out.append(Basket(h.id, tuple(its), total, float(n), total / n))
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(size: int, seed: int, time_limit: float) -> None:
    """Generate, solve, check and print one size."""
    problem = generate(size, seed)
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    result = solve_allocation(problem, time_limit=time_limit, seed=seed)
    wall = time.perf_counter() - t0
    rss = peak_rss_mb()
    worst = min(b.coverage for b in result.baskets)
    kg = sum(b.kg for b in result.baskets)
    bound, kg_bound = lp_bounds(problem, worst)
    bad = violations(problem, result.baskets)
    base = baseline(problem)
    base_worst = min(b.coverage for b in base)
    base_kg = sum(b.kg for b in base)
    _, base_kg_bound = lp_bounds(problem, base_worst)
    base_bad = violations(problem, base)
    m = result.metrics
    print(f"== {size:,} households, {len(problem.lots)} lots, {len(problem.points)} points "
          f"(seed {seed}) ==")
    print(f"solver    : wall {wall:.2f} s, peak RSS {rss:.0f} MB (before solve {rss_before:.0f}"
          f" MB), status {result.status}, classes {m['classes']}, LP vars {m['lp_variables']},"
          f" points pooled {bool(m['points_pooled'])}")
    print(f"            worst coverage {worst:.4f} / LP bound {bound:.4f} = "
          f"{worst / bound:.2%}; kg {kg:,.1f} / bound at that worst {kg_bound:,.1f} = "
          f"{kg / kg_bound:.2%}; mean coverage {m['mean_coverage']:.4f}; "
          f"violations {sum(bad.values())} {bad or ''}")
    print(f"baseline  : worst coverage {base_worst:.4f} = {base_worst / bound:.2%} of bound; "
          f"kg {base_kg:,.1f} = {base_kg / base_kg_bound:.2%} of its bound "
          f"({base_kg_bound:,.1f}); violations {sum(base_bad.values())} {base_bad or ''}")
    for b in result.binding:
        print(f"binding   : {b.rule}: {b.message}")
    checks = {
        "worst >= 97% of bound": worst >= 0.97 * bound,
        "kg >= 97% of bound": kg >= 0.97 * kg_bound,
        "0 violations": not bad,
        "wall <= 30 s": wall <= 30.0,
        "peak RSS <= 2 GB": rss <= 2048,
    }
    print("targets   : " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in checks.items()))


def main() -> None:
    """Parse the command line and run the sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 20_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.seed, args.time_limit)


if __name__ == "__main__":
    main()
