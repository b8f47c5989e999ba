"""Solve step: lexicographic LP over household classes (GLOP), and which rules bind.

Stages, in the issue's order of objectives:

1. max-min: raise the worst relative coverage ``t``; classes that cannot go higher (non-zero dual
   on their coverage row) are frozen and the rest raised again (progressive filling), so one
   class starved by its exclusions does not hold everyone else at its level;
2. with those levels kept, the most kg;
3. with that kg kept, the most perishable-weighted kg (short shelf life first);
4. with that kept, the most variety (sum over products of min(share, 10%) per basket);
5. with that kept, the least kg x km from farm to point, and big pieces in big baskets;
6. whole pieces: each piece lot rounded per class (:mod:`.rounding`), then the kg lots
   re-solved around those pieces (worst raised again, most kg, then spread over products),
   so rounding costs small classes little.

A stage cut by the time limit keeps the previous stage's answer and makes the status
``feasible``; with every stage solved (``optimal``) the answer depends only on input and seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.linear_solver import pywraplp

from baskets.optimizer.allocation.build import BuiltProblem, FloatArray, haversine_km
from baskets.optimizer.allocation.model import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    Binding,
)

# Relative slack when a stage's optimum becomes a constraint of the next: keeps the next LP
# feasible despite floating point, at a cost far below a gram per household.
STAGE_SLACK = 1e-7
# Time the max-min stage may take past the limit when the limit cut it short (a job's hard
# time limit still stops a worker that would run longer).
FIRST_STAGE_SECONDS = 600.0
DUAL_TOLERANCE = 1e-9
MAX_FILL_ROUNDS = 5
# A basket reaches full variety with ten products of at least 10% each.
VARIETY_SHARE = 0.1
FILL_STEP = 0.01


@dataclass(frozen=True, slots=True)
class ClassSolution:
    """LP answer per class: kg of each eligible lot, relative coverage level per class."""

    amounts: tuple[FloatArray, ...]
    levels: FloatArray
    worst: float
    status: str
    binding: tuple[Binding, ...]
    lp_variables: int
    # Another answer as good for the LP (kg packed in fewer products), tried if the split of
    # ``amounts`` loses too much of the worst coverage.
    alternative: tuple[FloatArray, ...] | None = None


@dataclass(slots=True)
class _Model:
    solver: Any
    t: Any
    x: list[list[Any]]
    totals: list[Any]
    define: list[Any]
    cover: list[Any]
    share_rows: dict[str, list[Any]]
    class_share_rows: list[dict[str, Any]]
    class_product_rows: list[list[Any]]
    product_rows: dict[str, list[Any]]
    capacity_rows: dict[int, Any]


Terms = list[tuple[Any, float]]


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _row(solver: Any, lb: float, ub: float, terms: Terms) -> Any:
    """A linear row ``lb <= sum(coef * var) <= ub`` (the low-level API: fast to build)."""
    row = solver.Constraint(lb, ub)
    for var, coef in terms:
        row.SetCoefficient(var, coef)
    return row


def _objective(solver: Any, terms: Terms, *, maximize: bool) -> None:
    objective = solver.Objective()
    objective.Clear()
    for var, coef in terms:
        objective.SetCoefficient(var, coef)
    if maximize:
        objective.SetMaximization()
    else:
        objective.SetMinimization()


def _build_model(built: BuiltProblem, seed: int) -> _Model:
    """One variable per class and eligible lot, one total per class; every basket rule is a
    row on the class's total (so a row holds its own lots plus one total, not every lot)."""
    problem = built.problem
    policy = problem.policy
    lots = problem.lots
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
        raise RuntimeError("OR-Tools GLOP solver unavailable")
    solver.SetSolverSpecificParametersAsString(f"random_seed: {int(seed) % 2**31}")
    inf = solver.infinity()
    t = solver.NumVar(0.0, inf, "t")
    x: list[list[Any]] = []
    totals: list[Any] = []
    define: list[Any] = []
    cover: list[Any] = []
    share_rows: dict[str, list[Any]] = {}
    class_share_rows: list[dict[str, Any]] = []
    class_product_rows: list[list[Any]] = []
    product_rows: dict[str, list[Any]] = {}
    lot_terms: list[list[Any]] = [[] for _ in lots]
    point_terms: dict[int, list[Any]] = {}
    category_of = [lot.category for lot in lots]
    product_of = [lot.product for lot in lots]
    for c, klass in enumerate(built.classes):
        xs = [solver.NumVar(0.0, inf, "") for _ in klass.lots]
        x.append(xs)
        total = solver.NumVar(0.0, policy.max_coverage * klass.need_kg, "")
        totals.append(total)
        define.append(_row(solver, 0.0, 0.0, [(total, 1.0)] + [(v, -1.0) for v in xs]))
        cover.append(_row(solver, 0.0, inf,
                          [(total, 1.0), (t, -klass.target * klass.need_kg)]))
        for var, j in zip(xs, klass.lots.tolist(), strict=True):
            lot_terms[j].append(var)
        class_share_rows.append({})
        class_product_rows.append([])
        for category in klass.share_categories:
            share = policy.min_category_share[category]
            terms: Terms = [(v, 1.0) for v, j in zip(xs, klass.lots.tolist(), strict=True)
                            if category_of[j] == category]
            row = _row(solver, 0.0, inf, [*terms, (total, -share)])
            share_rows.setdefault(category, []).append(row)
            class_share_rows[c][category] = row
        if policy.max_product_share < 1.0 and xs:
            by_product: dict[str, Terms] = {}
            for var, j in zip(xs, klass.lots.tolist(), strict=True):
                by_product.setdefault(product_of[j], []).append((var, 1.0))
            for product, vterms in by_product.items():
                row = _row(solver, -inf, 0.0, [*vterms, (total, -policy.max_product_share)])
                product_rows.setdefault(product, []).append(row)
                class_product_rows[c].append(row)
        if klass.point is not None and xs:
            point_terms.setdefault(klass.point, []).append(total)
    for j, vs in enumerate(lot_terms):
        if vs:
            _row(solver, -inf, float(built.usable_kg[j]), [(v, 1.0) for v in vs])
    capacity_rows: dict[int, Any] = {}
    for p, vs in point_terms.items():
        cap = problem.points[p].capacity_kg
        if cap is not None:
            capacity_rows[p] = _row(solver, -inf, cap, [(v, 1.0) for v in vs])
    return _Model(solver, t, x, totals, define, cover, share_rows, class_share_rows,
                  class_product_rows, product_rows, capacity_rows)


def _run(model: _Model, deadline: float) -> int:
    remaining = max(0.05, deadline - time.monotonic())
    model.solver.SetTimeLimit(int(remaining * 1000))
    return int(model.solver.Solve())


def _ok(code: int) -> bool:
    return code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)


def _max_t(model: _Model, deadline: float) -> tuple[int, float]:
    model.solver.Maximize(model.t)
    code = _run(model, deadline)
    return code, (model.t.solution_value() if _ok(code) else 0.0)


def _relaxed_t(model: _Model, rows: list[Any], deadline: float, *, lower: bool) -> float:
    """Worst coverage if ``rows`` were dropped (bounds restored afterwards)."""
    inf = model.solver.infinity()
    saved = [(r.lb(), r.ub()) for r in rows]
    for r in rows:
        if lower:
            r.SetLb(-inf)
        else:
            r.SetUb(inf)
    _, value = _max_t(model, deadline)
    for r, (lb, ub) in zip(rows, saved, strict=True):
        r.SetBounds(lb, ub)
    return value


def _missing_kg(
    built: BuiltProblem,
    model: _Model,
    level: float,
    deadline: float,
    *,
    category: str | None = None,
    points: tuple[int, ...] = (),
) -> list[float] | None:
    """Least extra kg with which every class reaches ``level`` (``None`` if the LP failed).

    With ``points``: extra room at each of these points (one figure per point). Otherwise one
    virtual lot per class, counted in the class's kg: of ``category`` (only for the classes its
    minimum share applies to), or, without a category, of other products in the right mix
    (the figure for the cap per product). The virtual lots are switched off afterwards.
    """
    solver = model.solver
    policy = built.problem.policy
    extra: list[Any] = []
    if points:
        for p in points:
            v = solver.NumVar(0.0, solver.infinity(), "")
            model.capacity_rows[p].SetCoefficient(v, -1.0)
            extra.append(v)
    else:
        for c, klass in enumerate(built.classes):
            if category is not None and category not in klass.share_categories:
                continue
            v = solver.NumVar(0.0, solver.infinity(), "")
            # The virtual kg count in the class's total (so in its cover, cap, product and
            # share rows through it) ...
            model.define[c].SetCoefficient(v, -1.0)
            # ... and in the part of its category, or of every category in the right mix.
            for k, row in model.class_share_rows[c].items():
                if category is None:
                    row.SetCoefficient(v, policy.min_category_share[k])
                elif k == category:
                    row.SetCoefficient(v, 1.0)
            extra.append(v)
    if not extra:
        return None
    lb, ub = model.t.lb(), model.t.ub()
    model.t.SetBounds(level * (1 - 1e-6), solver.infinity())
    _objective(solver, [(v, 1.0) for v in extra], maximize=False)
    code = _run(model, deadline)
    values = (
        [max(0.0, v.solution_value()) for v in extra]
        if code == pywraplp.Solver.OPTIMAL else None
    )
    for v in extra:
        v.SetBounds(0.0, 0.0)
    model.t.SetBounds(lb, ub)
    return values


def _binding(
    built: BuiltProblem, model: _Model, worst: float, deadline: float
) -> list[Binding]:
    """Name the rules that cap the worst coverage, with the coverage each allows.

    A rule binds when lifting it alone raises the worst coverage; its figure is the least
    supply (or room) that would give that higher coverage with the rule kept.
    """
    problem = built.problem
    policy = problem.policy
    out: list[Binding] = []

    def bound_by(rows: list[Any]) -> bool:
        return any(abs(r.dual_value()) > DUAL_TOLERANCE for r in rows)

    # Duals must be read before any further solve. At a degenerate optimum a binding rule
    # may show a zero dual, so every rule with rows is tried when there are few of them.
    share_bound = {k: bound_by(rows) for k, rows in model.share_rows.items()}
    product_bound = {p: max((abs(r.dual_value()) for r in rows), default=0.0)
                     for p, rows in model.product_rows.items()}
    capacity_bound = {p: bound_by([r]) for p, r in model.capacity_rows.items()}

    for category in sorted(share_bound):
        if time.monotonic() > deadline:
            break
        relaxed = _relaxed_t(model, model.share_rows[category], deadline, lower=True)
        if relaxed <= worst + 5e-4:
            continue
        share = policy.min_category_share[category]
        found = _missing_kg(built, model, relaxed, deadline, category=category)
        missing = sum(found) if found is not None else None
        figure_en = f"; {missing:.0f} kg of {category} are missing" if missing else ""
        figure_fr = f" ; il manque {missing:.0f} kg de « {category} »" if missing else ""
        out.append(Binding(
            rule="min_category_share",
            message=(f"the {_pct(share)} {category} share limits coverage to {_pct(worst)} "
                     f"({_pct(relaxed)} without it){figure_en}"),
            message_fr=(f"la part minimale de {_pct(share)} pour « {category} » limite la "
                        f"couverture à {_pct(worst)} ({_pct(relaxed)} sans elle){figure_fr}"),
            limit_coverage=worst, missing_kg=missing, subject=category,
            relaxed_coverage=relaxed,
        ))
    if model.product_rows and time.monotonic() < deadline:
        rows = [r for rs in model.product_rows.values() for r in rs]
        relaxed = _relaxed_t(model, rows, deadline, lower=False)
        if relaxed > worst + 5e-4:
            top = max(sorted(product_bound), key=lambda p: product_bound[p])
            share = policy.max_product_share
            found = _missing_kg(built, model, relaxed, deadline)
            missing = sum(found) if found is not None else None
            figure_en = f"; {missing:.0f} kg of other products are missing" if missing else ""
            figure_fr = f" ; il manque {missing:.0f} kg d'autres produits" if missing else ""
            out.append(Binding(
                rule="max_product_share",
                message=(f"the {_pct(share)} cap per product limits coverage to {_pct(worst)} "
                         f"({_pct(relaxed)} without it; mostly {top}){figure_en}"),
                message_fr=(f"le plafond de {_pct(share)} par produit limite la couverture à "
                            f"{_pct(worst)} ({_pct(relaxed)} sans lui ; surtout « {top} »)"
                            f"{figure_fr}"),
                limit_coverage=worst, missing_kg=missing, subject=top,
                relaxed_coverage=relaxed,
            ))
    bound_points = tuple(p for p, b in sorted(capacity_bound.items()) if b)
    if bound_points and time.monotonic() < deadline:
        relaxed = _relaxed_t(model, [model.capacity_rows[p] for p in bound_points], deadline,
                             lower=False)
        if relaxed > worst + 5e-4:
            found = _missing_kg(built, model, relaxed, deadline, points=bound_points)
            for i, p in enumerate(bound_points):
                point = problem.points[p]
                cap = point.capacity_kg or 0.0
                missing = found[i] if found is not None else None
                if found is not None and (missing or 0.0) < 0.0005:
                    continue
                figure_en = (f"; it would need {missing:.0f} kg more room"
                             if missing is not None else "")
                figure_fr = (f" ; il lui faudrait {missing:.0f} kg de place en plus"
                             if missing is not None else "")
                out.append(Binding(
                    rule="point_capacity_kg",
                    message=(f"the {cap:.0f} kg capacity of point {point.id} limits coverage "
                             f"to {_pct(worst)} ({_pct(relaxed)} without it){figure_en}"),
                    message_fr=(f"la capacité de {cap:.0f} kg du point {point.id} limite la "
                                f"couverture à {_pct(worst)} ({_pct(relaxed)} sans elle)"
                                f"{figure_fr}"),
                    limit_coverage=worst, missing_kg=missing, subject=point.id,
                    relaxed_coverage=relaxed,
                ))
    return out


def _pre_binding(built: BuiltProblem) -> list[Binding]:
    """Rules visible before solving: basket capacity of points, households excluding all."""
    problem = built.problem
    out: list[Binding] = []
    for p, count in sorted(built.unserved_by_point.items()):
        point = problem.points[p]
        out.append(Binding(
            rule="point_capacity_baskets",
            message=(f"point {point.id} hands out at most {point.capacity_baskets} baskets; "
                     f"{count} registered households get none this week"),
            message_fr=(f"le point {point.id} distribue au plus {point.capacity_baskets} "
                        f"paniers ; {count} foyers inscrits n'en reçoivent pas cette semaine"),
            limit_coverage=0.0, subject=point.id,
        ))
    starved = sum(len(k.members) for k in built.classes if len(k.lots) == 0)
    if starved:
        out.append(Binding(
            rule="exclusions",
            message=f"{starved} households exclude every lot on offer and receive nothing",
            message_fr=(f"{starved} foyers excluent tous les lots proposés et ne reçoivent "
                        "rien"),
            limit_coverage=0.0, missing_kg=None,
        ))
    return out


def _supply_binding(built: BuiltProblem, worst: float) -> Binding | None:
    policy = built.problem.policy
    if worst >= policy.max_coverage - 1e-6:
        return None
    need = float(sum(k.need_kg * k.target for k in built.classes))
    supply = float(built.usable_kg.sum())
    if need <= 0:
        return None
    missing = need - supply
    if missing <= 0.0005:
        return None
    return Binding(
        rule="supply",
        message=(f"the week's supply ({supply:.0f} kg) is {_pct(supply / need)} of the need "
                 f"({need:.0f} kg): worst coverage {_pct(worst)}; {missing:.0f} kg are missing "
                 "to cover every need"),
        message_fr=(f"l'offre de la semaine ({supply:.0f} kg) couvre {_pct(supply / need)} du "
                    f"besoin ({need:.0f} kg) : couverture minimale {_pct(worst)} ; il manque "
                    f"{missing:.0f} kg pour couvrir tous les besoins"),
        limit_coverage=worst, missing_kg=missing,
    )


def _progressive_filling(
    model: _Model, built: BuiltProblem, worst: float, deadline: float
) -> tuple[FloatArray, bool] | None:
    """Leximin levels per class: raise the worst, freeze who cannot go higher, repeat.

    Returns the levels and whether the rounds ran to the end (not cut by ``deadline``).

    Which classes cannot go higher is read from an LP, not from duals (degenerate at the
    max-min optimum): with ``t`` held at the current level, each free class may rise by up to
    ``FILL_STEP`` of its target, and the sum of rises is maximised; classes that rise are
    free to go on, the others are frozen. Returns ``None`` if a solve failed.
    """
    solver = model.solver
    classes = built.classes
    n = len(classes)
    rises = [solver.NumVar(0.0, 0.0, "") for _ in range(n)]
    for c, row in enumerate(model.cover):
        row.SetCoefficient(rises[c], -FILL_STEP * classes[c].target * classes[c].need_kg)
    levels = np.full(n, np.nan)
    level = worst
    for round_ in range(MAX_FILL_ROUNDS):
        free = [c for c in range(n) if math.isnan(levels[c])]
        if round_ > 0 and time.monotonic() >= deadline:
            # Out of its share of time: the classes still free keep the last level.
            return np.where(np.isnan(levels), level, levels), False
        if round_ > 0:
            code, level = _max_t(model, deadline)
            if not _ok(code):
                return None
        blocked = free
        if round_ < MAX_FILL_ROUNDS - 1 and time.monotonic() < deadline:
            model.t.SetBounds(level, level)
            for c in free:
                rises[c].SetUb(1.0)
            _objective(solver, [(rises[c], 1.0) for c in free], maximize=True)
            code = _run(model, deadline)
            blocked = [c for c in free if rises[c].solution_value() < 1e-6]
            for c in free:
                rises[c].SetUb(0.0)
            model.t.SetBounds(0.0, solver.infinity())
            if not _ok(code):
                return None
            if not blocked:  # everyone can rise together: the max-t step will tell how far
                blocked = []
        for c in blocked:
            levels[c] = level
            row = model.cover[c]
            row.SetCoefficient(model.t, 0.0)
            row.SetLb(level * classes[c].target * classes[c].need_kg * (1 - STAGE_SLACK))
        if all(not math.isnan(v) for v in levels):
            break
    return np.where(np.isnan(levels), level, levels), True


def _variety_terms(built: BuiltProblem, model: _Model) -> Terms:
    """Variety of each class's basket: the sum over products of min(share, VARIETY_SHARE).

    Concave, so an LP can maximise it (one bounded variable per class and product). It also
    spreads each basket over more products, so whole pieces round with less damage.
    """
    solver = model.solver
    inf = solver.infinity()
    lots = built.problem.lots
    terms: Terms = []
    for xs, klass, total in zip(model.x, built.classes, model.totals, strict=True):
        if not xs or klass.need_kg <= 0:
            continue
        by_product: dict[str, Terms] = {}
        for var, j in zip(xs, klass.lots.tolist(), strict=True):
            by_product.setdefault(lots[j].product, []).append((var, -1.0))
        for vterms in by_product.values():
            y = solver.NumVar(0.0, inf, "")
            _row(solver, -inf, 0.0, [(y, 1.0), *vterms])
            _row(solver, -inf, 0.0, [(y, 1.0), (total, -VARIETY_SHARE)])
            terms.append((y, 1.0 / klass.need_kg))
    return terms


def _last_stage_terms(built: BuiltProblem, model: _Model) -> Terms:
    """Cost of the last stage: km from farm to point, and big pieces in small baskets.

    Once the worst coverage, kg and freshness are fixed, a piece lot is better given to
    classes of large households (a 1.5 kg squash rounds badly in a 4 kg basket), and a lot
    better given to near points. Both terms are scaled to [0, 1] per kg.
    """
    problem = built.problem
    km: list[list[float]] = []
    for klass in built.classes:
        if klass.point is None:
            km.append([0.0] * len(klass.lots))
            continue
        point = problem.points[klass.point]
        km.append([
            haversine_km(point.lat, point.lon, problem.lots[int(j)].lat, problem.lots[int(j)].lon)
            for j in klass.lots
        ])
    longest = max((d for row in km for d in row), default=0.0) or 1.0
    terms: Terms = []
    for xs, klass, row in zip(model.x, built.classes, km, strict=True):
        mean_need = klass.need_kg / max(1, len(klass.members))
        for var, j, d in zip(xs, klass.lots, row, strict=True):
            bulk = min(1.0, float(built.unit_kg[int(j)]) / mean_need) if mean_need > 0 else 0.0
            terms.append((var, d / longest + bulk))
    return terms


def _amounts(
    model: _Model, built: BuiltProblem, levels: FloatArray | float, previous: Any = None
) -> Any:
    """The LP answer per class, if every class holds its level (else ``previous``)."""
    amounts = tuple(np.array([max(0.0, v.solution_value()) for v in xs], dtype=np.float64)
                    for xs in model.x)
    got = np.array([a.sum() for a in amounts])
    want = np.array([k.target * k.need_kg for k in built.classes]) * np.asarray(levels)
    if np.all(got >= want * (1 - 1e-5) - 1e-6):
        return amounts
    return previous


def _repair_pieces(
    model: _Model,
    built: BuiltProblem,
    amounts: tuple[FloatArray, ...],
    levels: FloatArray,
    stage_rows: list[Any],
    variety: Terms,
    deadline: float,
) -> tuple[tuple[FloatArray, ...], tuple[FloatArray, ...] | None] | None:
    """Round the piece lots per class, then re-solve the kg lots around those whole pieces.

    Rounding a small class's pieces down can cost it a few percent of its level; with the
    pieces fixed, the kg lots move between classes to win it back: the classes' levels are
    kept at least at what plain rounding gives them and the worst raised as far as it goes,
    then the most kg. Each class's share
    rows may give up to one piece per household (the issue's rounding allowance), at a cost.
    Returns the answer with kg spread over products (and the packed one, to fall back on),
    or ``None`` (keep the plain rounding) if the LP fails.
    """
    from baskets.optimizer.allocation.rounding import round_class_pieces

    solver = model.solver
    inf = solver.infinity()
    unit = built.unit_kg
    rounded = round_class_pieces(built, amounts)
    for row in stage_rows:
        row.SetLb(-inf)
    penalties: Terms = []
    total_need = float(sum(k.need_kg for k in built.classes)) or 1.0
    for c, (klass, xs) in enumerate(zip(built.classes, model.x, strict=True)):
        piece_kg = 0.0
        biggest = 0.0
        for pos, (var, j) in enumerate(zip(xs, klass.lots.tolist(), strict=True)):
            if unit[j] > 0:
                var.SetBounds(float(rounded[c][pos]), float(rounded[c][pos]))
                piece_kg += float(rounded[c][pos])
                if rounded[c][pos] > 0:
                    biggest = max(biggest, float(unit[j]))
        total = model.totals[c]
        total.SetUb(max(total.ub(), piece_kg))
        # No class below what the plain rounding gives it (nor above its LP level is asked),
        # and the worst raised as far as it goes.
        keep = min(float(rounded[c].sum()), float(levels[c]) * klass.target * klass.need_kg)
        total.SetLb(min(keep * (1 - 1e-6), total.ub()))
        row = model.cover[c]
        row.SetLb(0.0)
        row.SetCoefficient(model.t, -klass.target * klass.need_kg)
        if biggest > 0 and (model.class_share_rows[c] or model.class_product_rows[c]):
            sigma = solver.NumVar(0.0, biggest * len(klass.members), "")
            for share_row in model.class_share_rows[c].values():
                share_row.SetCoefficient(sigma, 1.0)
            for product_row in model.class_product_rows[c]:
                product_row.SetCoefficient(sigma, -1.0)
            penalties.append((sigma, -10.0 / total_need))
    model.t.SetBounds(0.0, inf)
    _objective(solver, [(model.t, 1.0), *penalties], maximize=True)
    if _run(model, deadline) != pywraplp.Solver.OPTIMAL:
        return None
    reached = model.t.solution_value()
    model.t.SetBounds(reached * (1 - STAGE_SLACK), inf)
    kg_terms: Terms = [*((v, 1.0 / total_need) for v in model.totals), *penalties]
    _objective(solver, kg_terms, maximize=True)
    if _run(model, deadline) != pywraplp.Solver.OPTIMAL:
        return None
    packed = tuple(np.array([max(0.0, v.solution_value()) for v in xs], dtype=np.float64)
                   for xs in model.x)
    if variety and time.monotonic() < deadline:
        # An LP vertex packs a class's kg into few products; spread them again, since a
        # basket of few products meets the cap per product badly once pieces are split.
        value = solver.Objective().Value()
        _row(solver, value - STAGE_SLACK * max(1.0, abs(value)), inf, kg_terms)
        _objective(solver, variety, maximize=True)
        if _run(model, deadline) == pywraplp.Solver.OPTIMAL:
            spread = tuple(
                np.array([max(0.0, v.solution_value()) for v in xs], dtype=np.float64)
                for xs in model.x
            )
            return spread, packed
    return packed, None


def solve_classes(
    built: BuiltProblem,
    *,
    time_limit: float,
    seed: int,
    explain: bool = True,
) -> ClassSolution:
    """Solve the class-level LP lexicographically (see the module docstring).

    Parameters
    ----------
    built
        Output of :func:`baskets.optimizer.allocation.build.build`.
    time_limit
        Seconds for all stages together; a stage cut short makes the status ``feasible``.
    seed
        GLOP random seed (the answer is deterministic for a given seed).
    explain
        Whether to re-solve with rules relaxed to report which ones bind.

    Returns
    -------
    ClassSolution
    """
    deadline = time.monotonic() + max(0.1, time_limit)
    classes = built.classes
    n = len(classes)
    pre = _pre_binding(built)
    if n == 0:
        return ClassSolution((), np.zeros(0), 0.0, STATUS_OPTIMAL, tuple(pre), 0)
    model = _build_model(built, seed)
    lp_variables = sum(len(xs) for xs in model.x)
    status = STATUS_OPTIMAL

    code, worst = _max_t(model, deadline)
    if code != pywraplp.Solver.OPTIMAL:
        # The max-min stage is the answer's floor: cut short, it hands out next to nothing.
        # Empty baskets are always feasible, so GLOP stops short only for time: finish this
        # stage whatever the limit; the later stages then find the time spent.
        code, worst = _max_t(model, time.monotonic() + FIRST_STAGE_SECONDS)
        status = STATUS_FEASIBLE
    if not _ok(code):
        return ClassSolution(
            tuple(np.zeros(len(k.lots)) for k in classes), np.zeros(n), 0.0,
            STATUS_INFEASIBLE, tuple(pre), lp_variables,
        )
    if code != pywraplp.Solver.OPTIMAL:
        status = STATUS_FEASIBLE
    # The max-min answer: what is returned if no later stage finishes in time.
    amounts = _amounts(model, built, worst)
    if amounts is None:  # pragma: no cover - GLOP's own answer breaks its rows
        amounts = tuple(np.zeros(len(xs)) for xs in model.x)
        status = STATUS_FEASIBLE
    binding = list(pre)
    if explain:
        binding.extend(_binding(built, model, worst, deadline))
        s = _supply_binding(built, worst)
        if s is not None:
            binding.append(s)

    # Raising the classes above the worst gets at most half of what is left of the time;
    # the kg and freshness stages must have theirs.
    now = time.monotonic()
    filled = _progressive_filling(model, built, worst, now + 0.5 * max(0.0, deadline - now))
    if filled is None or not filled[1]:
        status = STATUS_FEASIBLE  # cut by the time limit: the answer may depend on speed
    levels = filled[0] if filled is not None else np.full(n, worst)
    for c in range(n):
        row = model.cover[c]
        row.SetCoefficient(model.t, 0.0)
        row.SetLb(levels[c] * classes[c].target * classes[c].need_kg * (1 - STAGE_SLACK))

    # Later stages, each keeping the optimum of the one before; the answer is that of the
    # last stage solved (a stage cut short by the time limit keeps the previous answer).
    solver = model.solver
    inf = solver.infinity()
    stage_rows: list[Any] = []
    alternative: tuple[FloatArray, ...] | None = None
    variety_terms: Terms = []

    def variety() -> Terms:
        variety_terms.extend(_variety_terms(built, model))
        return variety_terms

    stages: list[tuple[str, Any]] = [
        ("kg", lambda: [(v, 1.0) for v in model.totals]),
        ("perishable", lambda: [
            (var, float(built.perishability[j]))
            for xs, klass in zip(model.x, classes, strict=True)
            for var, j in zip(xs, klass.lots.tolist(), strict=True)
        ]),
        ("variety", variety),
        ("transport", lambda: [(v, -c) for v, c in _last_stage_terms(built, model)]),
    ]
    for _, make in stages:
        if time.monotonic() >= deadline:
            status = STATUS_FEASIBLE
            break
        terms = make()
        _objective(solver, terms, maximize=True)
        code = _run(model, deadline)
        if code != pywraplp.Solver.OPTIMAL:
            status = STATUS_FEASIBLE
            break
        value = solver.Objective().Value()
        amounts = _amounts(model, built, levels, amounts)
        slack = STAGE_SLACK * max(1.0, abs(value))
        stage_rows.append(_row(solver, value - slack, inf, terms))
    if time.monotonic() < deadline:
        repaired = _repair_pieces(model, built, amounts, levels, stage_rows, variety_terms,
                                  deadline)
        if repaired is not None:
            amounts, alternative = repaired
    return ClassSolution(amounts, levels, worst, status, tuple(binding), lp_variables,
                         alternative)
