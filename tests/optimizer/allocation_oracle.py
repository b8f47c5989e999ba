"""Independent oracle for the allocation tests: rule checker, household-level LP bound, baseline.

Written from the issue's text only (no import of the solver's build/solve/extract code): the
solver's dataclasses are used as plain data.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp

from baskets.optimizer.allocation import AllocationProblem, Basket, Household, Lot

EPS = 1e-6
GRAM = 0.001


def oecd_units(adults: int, children: int, infants: int = 0) -> float:
    """Modified OECD scale, from the issue: 1, 0.5 per further adult, 0.3 per child."""
    young = children + infants
    if adults:
        return 1 + 0.5 * (adults - 1) + 0.3 * young
    return 1 + 0.3 * (young - 1) if young else 0.0


def need_kg(problem: AllocationProblem, h: Household) -> float:
    """Kilograms a household needs this week."""
    return oecd_units(h.adults, h.children, h.infants) * problem.policy.kg_per_consumption_unit


def allowed(h: Household, lot: Lot) -> bool:
    """Whether neither the lot's product nor its category is excluded by the household."""
    return lot.product not in h.excluded_products and lot.category not in h.excluded_categories


def whole_pieces(lot: Lot) -> int:
    """Whole pieces in a piece lot."""
    assert lot.unit_kg is not None
    return math.floor(lot.quantity_kg / lot.unit_kg + 1e-9)


@dataclass
class Violations:
    """Broken rules found by :func:`check`, by rule, with a description of each."""

    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, rule: str, what: str) -> None:
        self.found[rule].append(what)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.found.values())

    def __bool__(self) -> bool:
        return self.count > 0


def check(
    problem: AllocationProblem, baskets: Sequence[Basket], *, piece_slack: bool = True
) -> Violations:
    """Every hard rule of the issue, on the output baskets.

    Shares may be off by one piece of the basket (its largest piece), as the issue allows,
    unless ``piece_slack`` is false, and by the grams the kilograms are rounded to.
    """
    pol = problem.policy
    lots = {lot.id: lot for lot in problem.lots}
    households = {h.id: h for h in problem.households}
    bad = Violations()
    used: dict[str, float] = defaultdict(float)
    point_kg: dict[str, float] = defaultdict(float)
    point_baskets: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for b in baskets:
        h = households[b.household]
        if b.household in seen:
            bad.add("duplicate_basket", b.household)
        seen.add(b.household)
        need = need_kg(problem, h)
        total = 0.0
        per_cat: dict[str, float] = defaultdict(float)
        per_prod: dict[str, float] = defaultdict(float)
        piece = 0.0
        for it in b.items:
            lot = lots[it.lot]
            if it.kg < -EPS:
                bad.add("negative", f"{b.household}/{it.lot}")
            used[it.lot] += it.kg
            total += it.kg
            per_cat[lot.category] += it.kg
            per_prod[lot.product] += it.kg
            if not allowed(h, lot):
                bad.add("exclusion", f"{b.household} got {lot.product}/{lot.category}")
            if lot.unit_kg is not None:
                piece = max(piece, lot.unit_kg)
                n = it.kg / lot.unit_kg
                if abs(n - round(n)) > 1e-6 or it.pieces != round(n):
                    bad.add("whole_pieces", f"{b.household}/{it.lot}: {it.kg} kg, {it.pieces}")
        if abs(total - b.kg) > 1e-6 or abs(b.need_kg - need) > 1e-6:
            bad.add("basket_totals", b.household)
        if total > pol.max_coverage * need + EPS:
            bad.add("max_coverage", f"{b.household}: {total:.3f} > {pol.max_coverage} x {need}")
        if total > EPS:
            point_kg[h.point] += total
            point_baskets[h.point] += 1
            # Kilograms go out in grams: half a gram per item either way, on the part and
            # on the basket total.
            tol = (piece if piece_slack else 0.0) + GRAM * len(b.items) + EPS
            for cat, share in pol.min_category_share.items():
                if cat not in h.excluded_categories and per_cat[cat] < share * total - tol:
                    bad.add("min_category_share",
                            f"{b.household}: {cat} {per_cat[cat]:.3f} of {total:.3f}")
            prod, kg = max(per_prod.items(), key=lambda kv: kv[1])
            if kg > pol.max_product_share * total + tol:
                bad.add("max_product_share", f"{b.household}: {prod} {kg:.3f} of {total:.3f}")
    if seen != set(households):
        bad.add("missing_basket", str(sorted(set(households) - seen)))
    for lot_id, kg in used.items():
        if kg > lots[lot_id].quantity_kg + EPS:
            bad.add("lot_exceeded", f"{lot_id}: {kg:.4f} > {lots[lot_id].quantity_kg}")
    for p in problem.points:
        if p.capacity_kg is not None and point_kg[p.id] > p.capacity_kg + EPS:
            bad.add("point_capacity_kg", f"{p.id}: {point_kg[p.id]:.3f} > {p.capacity_kg}")
        if p.capacity_baskets is not None and point_baskets[p.id] > p.capacity_baskets:
            bad.add("point_capacity_baskets", f"{p.id}: {point_baskets[p.id]}")
    return bad


def coverages(problem: AllocationProblem, baskets: Sequence[Basket]) -> dict[str, float]:
    """Coverage per household recomputed from the items."""
    households = {h.id: h for h in problem.households}
    return {b.household: sum(i.kg for i in b.items) / need_kg(problem, households[b.household])
            for b in baskets}


def lp_bound(problem: AllocationProblem) -> float:
    """Max-min coverage of the LP relaxation, one variable per household and eligible lot.

    Households that a point's basket capacity leaves out are not handled here (tests using
    this bound have no basket capacity). Carry-over is ignored (tests using it do not use
    this bound).
    """
    pol = problem.policy
    s = pywraplp.Solver.CreateSolver("GLOP")
    assert s is not None
    t = s.NumVar(0.0, s.infinity(), "t")
    by_lot: dict[int, list[object]] = defaultdict(list)
    by_point: dict[str, list[object]] = defaultdict(list)
    for h in problem.households:
        need = need_kg(problem, h)
        xs = {j: s.NumVar(0.0, s.infinity(), "") for j, lot in enumerate(problem.lots)
              if allowed(h, lot)}
        total = s.Sum(list(xs.values())) if xs else 0.0
        s.Add(total >= t * need)
        s.Add(total <= pol.max_coverage * need)
        for cat, share in pol.min_category_share.items():
            if cat in h.excluded_categories:
                continue
            part = [v for j, v in xs.items() if problem.lots[j].category == cat]
            s.Add((s.Sum(part) if part else 0.0) >= share * total)
        products: dict[str, list[object]] = defaultdict(list)
        for j, v in xs.items():
            products[problem.lots[j].product].append(v)
            by_lot[j].append(v)
        for vs in products.values():
            s.Add(s.Sum(vs) <= pol.max_product_share * total)
        by_point[h.point].extend(xs.values())
    for j, vs in by_lot.items():
        lot = problem.lots[j]
        usable = lot.quantity_kg if lot.unit_kg is None else whole_pieces(lot) * lot.unit_kg
        s.Add(s.Sum(vs) <= usable)
    for p in problem.points:
        if p.capacity_kg is not None and by_point[p.id]:
            s.Add(s.Sum(by_point[p.id]) <= p.capacity_kg)
    s.Maximize(t)
    assert s.Solve() == pywraplp.Solver.OPTIMAL
    return float(t.solution_value())


def baseline_worst(problem: AllocationProblem) -> tuple[float, list[Basket]]:
    """The spreadsheet baseline: each lot split among eligible households in proportion to
    need, rounded down (grams, whole pieces). Returns its worst coverage and its baskets."""
    from baskets.optimizer.allocation import Item

    items: dict[str, list[Item]] = defaultdict(list)
    needs = {h.id: need_kg(problem, h) for h in problem.households}
    for lot in problem.lots:
        eligible = [h for h in problem.households if allowed(h, lot)]
        denom = sum(needs[h.id] for h in eligible)
        for h in eligible:
            share = lot.quantity_kg * needs[h.id] / denom
            if lot.unit_kg is None:
                kg = math.floor(share * 1000 + 1e-9) / 1000
                if kg > 0:
                    items[h.id].append(Item(lot.id, kg))
            else:
                n = math.floor(share / lot.unit_kg + 1e-9)
                if n > 0:
                    items[h.id].append(Item(lot.id, n * lot.unit_kg, n))
    baskets = []
    for h in problem.households:
        total = sum(i.kg for i in items[h.id])
        baskets.append(Basket(h.id, tuple(items[h.id]), total, needs[h.id],
                              total / needs[h.id]))
    return min(b.coverage for b in baskets), baskets
