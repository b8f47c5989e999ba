"""Extract step: split each class's LP amounts to its households, in whole pieces and grams.

Within a class every household should get the same share of need from each product (that keeps
every rule of the LP). Each product's lots are laid end to end as a stream and the households,
ordered west to east by point, take consecutive stretches of it equal to their share: a
household gets a few lots per product (not a sliver of every lot), nearby points tend to get the
same lots, and a piece goes to the household holding its midpoint (whole pieces, at most one
piece off per lot). What pieces make a household gain or lose is then evened out with kg lots
inside the class, so the worst coverage stays at the LP's.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from baskets.optimizer.allocation.build import BuiltProblem, FloatArray, IntArray
from baskets.optimizer.allocation.model import Basket, Item
from baskets.optimizer.allocation.rounding import round_class_pieces
from baskets.optimizer.allocation.solve import ClassSolution

GRAM = 1000.0


def _overlaps(
    bounds: FloatArray, start: float, length: float
) -> tuple[IntArray, FloatArray]:
    """Households (indices into ``bounds``) overlapping [start, start+length) and by how much."""
    lo = int(np.searchsorted(bounds, start, side="right"))
    hi = int(np.searchsorted(bounds, start + length, side="left"))
    hi = min(hi, len(bounds) - 1)
    if lo > hi:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    idx = np.arange(lo, hi + 1, dtype=np.int64)
    left = np.where(idx > 0, bounds[np.maximum(idx - 1, 0)], 0.0)
    amount = np.minimum(bounds[idx], start + length) - np.maximum(left, start)
    keep = amount > 1e-12
    return idx[keep], amount[keep]


class _Entries:
    """Growing columns (household, lot, kg, pieces) of the answer."""

    def __init__(self) -> None:
        self.h: list[IntArray] = []
        self.lot: list[IntArray] = []
        self.kg: list[FloatArray] = []
        self.pieces: list[IntArray] = []

    def add(self, h: IntArray, lot: int, kg: FloatArray, pieces: IntArray | None) -> None:
        if len(h) == 0:
            return
        self.h.append(h)
        self.lot.append(np.full(len(h), lot, dtype=np.int64))
        self.kg.append(kg)
        self.pieces.append(pieces if pieces is not None else np.full(len(h), -1, np.int64))

    def columns(self) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
        if not self.h:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0), empty.copy()
        return (np.concatenate(self.h), np.concatenate(self.lot), np.concatenate(self.kg),
                np.concatenate(self.pieces))


def _stream(
    bounds: FloatArray, sizes: list[float]
) -> list[tuple[IntArray, FloatArray]]:
    """Lay ``sizes`` end to end and cut them at ``bounds`` (cumulative household shares)."""
    out = []
    offset = 0.0
    for size in sizes:
        out.append(_overlaps(bounds, offset, size))
        offset += size
    return out


def _split_class(
    built: BuiltProblem, c: int, amounts: FloatArray, out: _Entries
) -> None:
    problem = built.problem
    klass = built.classes[c]
    lots = problem.lots
    unit = built.unit_kg
    points = problem.points
    # West to east, then south to north: neighbouring points take neighbouring lots.
    point_key = np.array(
        [points[int(p)].lon * 1e3 + points[int(p)].lat * 1e-3
         for p in built.point_of_household[klass.members]]
    )
    order = np.lexsort((klass.members, point_key))
    members = klass.members[order]
    needs = klass.needs[order]
    share = needs / klass.need_kg if klass.need_kg > 0 else needs * 0.0
    piece_groups: dict[tuple[str, float], list[int]] = {}
    kg_groups: dict[str, list[int]] = {}
    for pos, j in enumerate(klass.lots):
        if amounts[pos] <= 0:
            continue
        lot = lots[int(j)]
        if unit[int(j)] > 0:
            piece_groups.setdefault((lot.product, float(unit[int(j)])), []).append(pos)
        else:
            kg_groups.setdefault(lot.product, []).append(pos)
    state = _State(built, klass.share_categories, members, needs, share, amounts, klass.lots)

    def by_lon(positions: list[int]) -> list[int]:
        return sorted(positions, key=lambda p: lots[int(klass.lots[p])].lon)

    # Whole pieces, largest first: each household gets the floor of its share of the pieces,
    # and the spare pieces go to the households most owed so far (in the piece's category and
    # overall), so nobody drifts more than about a piece from its share.
    for (product, u), positions in sorted(piece_groups.items(), key=lambda kv: -kv[0][1]):
        positions = by_lon(positions)
        lot_pieces = [int(round(amounts[p] / u)) for p in positions]
        total = sum(lot_pieces)
        ideal_pieces = share * total
        counts = np.floor(ideal_pieces + 1e-9)
        spare = total - int(counts.sum())
        k = state.category_col[lots[int(klass.lots[positions[0]])].category]
        if spare > 0:
            owed = (
                state.ideal_so_far - state.got
                + state.ideal_cat_so_far[:, k] - state.cat[:, k]
                + (ideal_pieces - counts) * u
            )
            counts[np.argsort(-owed, kind="stable")[:spare]] += 1
        for pos, (idx, n) in zip(
            positions, _stream(np.cumsum(counts), [float(x) for x in lot_pieces]), strict=True
        ):
            whole = np.rint(n).astype(np.int64)
            keep = whole > 0
            j = int(klass.lots[pos])
            out.add(members[idx[keep]], j, (whole[keep] * u).astype(np.float64), whole[keep])
        state.receive_pieces(product, k, counts * u, ideal_pieces * u, u)
    # Kilograms: exact shares, each household a stretch of the product's lots.
    for positions in kg_groups.values():
        positions = by_lon(positions)
        kg_total = float(sum(amounts[p] for p in positions))
        bounds = np.cumsum(share * kg_total)
        bounds[-1] = kg_total
        for pos, (idx, kg) in zip(
            positions, _stream(bounds, [float(amounts[p]) for p in positions]), strict=True
        ):
            state.receive_kg(int(klass.lots[pos]), idx, kg)
    state.even_out()
    for j, idx, kg in state.kg_entries:
        out.add(members[idx], j, kg, None)


class _State:
    """What each household of a class holds, by product and category, against its share."""

    def __init__(
        self,
        built: BuiltProblem,
        share_categories: tuple[str, ...],
        members: IntArray,
        needs: FloatArray,
        share: FloatArray,
        amounts: FloatArray,
        class_lots: IntArray,
    ) -> None:
        problem = built.problem
        self.policy = problem.policy
        self.lots = problem.lots
        self.members = members
        self.needs = needs
        m = len(members)
        used = [int(j) for pos, j in enumerate(class_lots) if amounts[pos] > 0]
        self.products = sorted({self.lots[j].product for j in used})
        self.product_col = {p: i for i, p in enumerate(self.products)}
        categories = sorted({self.lots[j].category for j in used})
        self.category_col = {k: i for i, k in enumerate(categories)}
        self.ideal = share * float(amounts.sum())
        cat_total = np.zeros(len(categories))
        for pos, j in enumerate(class_lots):
            if amounts[pos] > 0:
                cat_total[self.category_col[self.lots[int(j)].category]] += amounts[pos]
        self.ideal_cat = np.outer(share, cat_total)
        self.share_rules = {
            k: self.policy.min_category_share[k]
            for k in share_categories
            if k in self.category_col
        }
        self.held = np.zeros((m, len(self.products)))
        self.cat = np.zeros((m, len(categories)))
        self.got = np.zeros(m)
        self.ideal_so_far = np.zeros(m)
        self.ideal_cat_so_far = np.zeros((m, len(categories)))
        self.tolerance = np.zeros(m)
        self.kg_entries: list[tuple[int, IntArray, FloatArray]] = []

    def receive_pieces(
        self, product: str, k: int, kg: FloatArray, ideal: FloatArray, unit: float
    ) -> None:
        self.got += kg
        self.held[:, self.product_col[product]] += kg
        self.cat[:, k] += kg
        self.ideal_so_far += ideal
        self.ideal_cat_so_far[:, k] += ideal
        # The rules hold up to one piece of the basket; a little under it, so grams and
        # floats never tip a basket over.
        self.tolerance = np.where(
            kg > 0, np.maximum(self.tolerance, 0.98 * unit - 0.002), self.tolerance
        )

    def receive_kg(self, j: int, idx: IntArray, kg: FloatArray) -> None:
        lot = self.lots[j]
        self.kg_entries.append((j, idx, kg.copy()))
        self.got[idx] += kg
        self.held[idx, self.product_col[lot.product]] += kg
        self.cat[idx, self.category_col[lot.category]] += kg

    def _give_back(self, give: FloatArray, select: set[int]) -> dict[int, float]:
        """Take ``give`` kg back from each household's kg entries in ``select``, pro rata."""
        base = np.zeros(len(self.got))
        for e, (_, idx, kg) in enumerate(self.kg_entries):
            if e in select:
                np.add.at(base, idx, kg)
        give = np.minimum(give, base)
        keep = np.where(base > 0, 1.0 - give / np.where(base > 0, base, 1.0), 1.0)
        pool: dict[int, float] = {}
        for e, (j, idx, kg) in enumerate(self.kg_entries):
            if e not in select:
                continue
            back = kg * (1.0 - keep[idx])
            if back.sum() <= 1e-12:
                continue
            kg -= back
            lot = self.lots[j]
            self.got[idx] -= back
            self.held[idx, self.product_col[lot.product]] -= back
            self.cat[idx, self.category_col[lot.category]] -= back
            pool[j] = pool.get(j, 0.0) + float(back.sum())
        return pool

    def _take(self, pool: dict[int, float], want: FloatArray) -> None:
        """Hand the pool to households wanting kg, most short first, within the rules."""
        needy = np.flatnonzero(want > 1e-9)
        if len(needy) == 0:
            return
        rel = (self.got[needy] - self.ideal[needy]) / np.maximum(self.needs[needy], 1e-12)
        needy = needy[np.argsort(rel, kind="stable")]
        left = want[needy].copy()
        tol = self.tolerance[needy]
        cap = self.policy.max_product_share
        for j, amount in pool.items():
            if amount <= 1e-12:
                continue
            lot = self.lots[j]
            col = self.product_col[lot.product]
            k = self.category_col[lot.category]
            # Adding x of a product to a basket of g kg holding h of it keeps
            # h + x <= cap (g + x) + tol, i.e. x <= (cap g + tol - h) / (1 - cap).
            if cap < 1.0:
                room = np.minimum(
                    left, (cap * self.got[needy] + tol - self.held[needy, col]) / (1.0 - cap)
                )
            else:
                room = left.copy()
            for rule, s in self.share_rules.items():
                kr = self.category_col[rule]
                if kr != k and s > 0:
                    room = np.minimum(
                        room, (self.cat[needy, kr] + tol) / s - self.got[needy]
                    )
            room = np.clip(room, 0.0, None)
            before = np.cumsum(room) - room
            take = np.clip(np.minimum(room, amount - before), 0.0, None)
            pick = np.flatnonzero(take > 1e-12)
            if len(pick) == 0:
                continue
            hh = needy[pick]
            given = take[pick]
            self.kg_entries.append((j, hh, given.astype(np.float64)))
            self.got[hh] += given
            self.held[hh, col] += given
            self.cat[hh, k] += given
            left[pick] -= given
            pool[j] = amount - float(given.sum())

    def even_out(self) -> None:
        """Even out what whole pieces gave or took, with kg lots, keeping the basket rules.

        First category by category (a household given an extra melon hands back fruit kg to
        the households that got none), then overall (surplus handed back first from the
        categories no minimum share protects).
        """
        carried: dict[int, float] = {}
        for k, col in self.category_col.items():
            select = {e for e, (j, _, _) in enumerate(self.kg_entries)
                      if self.lots[j].category == k}
            if not select:
                continue
            gap = self.cat[:, col] - self.ideal_cat[:, col]
            pool = self._give_back(np.clip(gap, 0.0, None), select)
            want = np.clip(np.minimum(self.ideal_cat[:, col] - self.cat[:, col],
                                      self.ideal - self.got), 0.0, None)
            self._take(pool, want)
            leftover = {j: a for j, a in pool.items() if a > 1e-12}
            if leftover:
                self._take(leftover, np.clip(self.ideal - self.got, 0.0, None))
                for j, a in leftover.items():
                    if a > 1e-12:
                        carried[j] = carried.get(j, 0.0) + a
        free = {e for e, (j, _, _) in enumerate(self.kg_entries)
                if self.lots[j].category not in self.share_rules}
        everyone = set(range(len(self.kg_entries)))
        surplus = np.clip(self.got - self.ideal, 0.0, None)
        pool = self._give_back(surplus, free)
        surplus = np.clip(self.got - self.ideal, 0.0, None)
        for j, a in self._give_back(surplus, everyone).items():
            pool[j] = pool.get(j, 0.0) + a
        for j, a in carried.items():
            pool[j] = pool.get(j, 0.0) + a
        self._take(pool, np.clip(self.ideal - self.got, 0.0, None))
        # What no single lot could top up (each would break a share), a mix of the pool can.
        self._take_mix(pool, np.clip(self.ideal - self.got, 0.0, None))

    def _take_mix(self, pool: dict[int, float], want: FloatArray) -> None:
        """Hand the pool out as a mix (each lot in proportion to what is left of it), most
        short household first, as much as its shares allow; the rest stays unallocated."""
        needy = np.flatnonzero(want > 1e-6)
        if len(needy) == 0:
            return
        rel = (self.got[needy] - self.ideal[needy]) / np.maximum(self.needs[needy], 1e-12)
        needy = needy[np.argsort(rel, kind="stable")]
        lots_in = [j for j, a in pool.items() if a > 1e-9]
        if not lots_in:
            return
        left = np.array([pool[j] for j in lots_in])
        pcol = np.array([self.product_col[self.lots[j].product] for j in lots_in])
        kcol = np.array([self.category_col[self.lots[j].category] for j in lots_in])
        cap = self.policy.max_product_share
        n_p, n_k = len(self.products), len(self.category_col)
        given: dict[int, tuple[list[int], list[float]]] = {j: ([], []) for j in lots_in}
        for i in needy.tolist():
            total = float(left.sum())
            if total <= 1e-9:
                break
            f = left / total
            fp = np.bincount(pcol, weights=f, minlength=n_p)
            fk = np.bincount(kcol, weights=f, minlength=n_k)
            tol = float(self.tolerance[i])
            g = float(self.got[i])
            x = min(float(want[i]), total)
            if cap < 1.0:
                over = fp > cap + 1e-12
                if over.any():
                    room = (cap * g + tol - self.held[i, over]) / (fp[over] - cap)
                    x = min(x, float(room.min()))
            for rule, s in self.share_rules.items():
                kr = self.category_col[rule]
                if fk[kr] < s - 1e-12:
                    x = min(x, (float(self.cat[i, kr]) + tol - s * g) / (s - fk[kr]))
            if x <= 1e-6:
                continue
            take = f * x
            left -= take
            self.got[i] += x
            self.held[i] += fp * x
            self.cat[i] += fk * x
            for j, t in zip(lots_in, take.tolist(), strict=True):
                if t > 1e-12:
                    given[j][0].append(i)
                    given[j][1].append(t)
        for j, (who, kg) in given.items():
            if who:
                self.kg_entries.append((j, np.array(who, dtype=np.int64), np.array(kg)))
        for j, a in zip(lots_in, left.tolist(), strict=True):
            pool[j] = a


def _merge(
    h: IntArray, lot: IntArray, kg: FloatArray, pieces: IntArray
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Sum duplicate (household, lot) rows; rows come out sorted by household then lot."""
    if len(h) == 0:
        return h, lot, kg, pieces
    order = np.lexsort((lot, h))
    h, lot, kg, pieces = h[order], lot[order], kg[order], pieces[order]
    first = np.ones(len(h), dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (lot[1:] != lot[:-1])
    starts = np.flatnonzero(first)
    merged_pieces = np.where(
        np.maximum.reduceat(pieces, starts) < 0, -1, np.add.reduceat(np.maximum(pieces, 0), starts)
    ).astype(np.int64)
    return h[starts], lot[starts], np.add.reduceat(kg, starts), merged_pieces


def _to_grams(
    built: BuiltProblem, h: IntArray, lot: IntArray, kg: FloatArray, pieces: IntArray
) -> npt.NDArray[np.int64]:
    """Whole grams, never beyond a lot nor a household's cap (kg lots absorb the rounding)."""
    n_lots = len(built.problem.lots)
    is_kg = pieces < 0
    grams = np.rint(kg * GRAM).astype(np.int64)
    # Kilogram lots: largest remainders, so a lot split in thousands of slivers adds up to its
    # own total (rounding each sliver alone can add hundreds of grams to a lot), never above
    # the lot.
    limit = np.floor(built.usable_kg * GRAM + 1e-6).astype(np.int64)
    rows = np.flatnonzero(is_kg)
    if len(rows):
        exact = kg[rows] * GRAM
        floor = np.floor(exact + 1e-9).astype(np.int64)
        lots_of = lot[rows]
        total = np.bincount(lots_of, weights=exact, minlength=n_lots)
        base = np.bincount(lots_of, weights=floor, minlength=n_lots).astype(np.int64)
        extra = np.clip(np.minimum(np.rint(total).astype(np.int64), limit) - base, 0, None)
        order = np.lexsort((rows, -(exact - floor), lots_of))
        sorted_lots = lots_of[order]
        first = np.searchsorted(sorted_lots, sorted_lots, side="left")
        rank = np.arange(len(order)) - first
        floor[order[rank < extra[sorted_lots]]] += 1
        grams[rows] = floor
    totals = np.bincount(lot[is_kg], weights=grams[is_kg], minlength=n_lots).astype(np.int64)
    for j in np.flatnonzero(totals > limit):
        over = np.flatnonzero(is_kg & (lot == j))
        _take_back(grams, over, int(totals[j] - limit[j]))
    # Households: never above max_coverage.
    n_h = len(built.problem.households)
    caps = np.floor(built.needs * built.problem.policy.max_coverage * GRAM + 1e-6).astype(
        np.int64
    )
    per_h = np.bincount(h, weights=grams, minlength=n_h).astype(np.int64)
    starts = np.searchsorted(h, np.arange(n_h + 1))  # rows are sorted by household
    for hh in np.flatnonzero(per_h > caps):
        rows = np.arange(starts[hh], starts[hh + 1])
        excess = int(per_h[hh] - caps[hh])
        kg_rows = rows[is_kg[rows]]
        excess -= _take_back(grams, kg_rows, excess)
        # Pieces alone above the cap: drop whole pieces, largest first.
        for r in sorted(rows[~is_kg[rows]], key=lambda r: -built.unit_kg[lot[r]]):
            unit_g = int(round(built.unit_kg[lot[r]] * GRAM))
            while excess > 0 and pieces[r] > 0:
                pieces[r] -= 1
                grams[r] -= unit_g
                excess -= unit_g
    _keep_point_capacity(built, h, lot, grams, pieces)
    _keep_shares(built, h, lot, grams, pieces)
    return grams


def _keep_point_capacity(
    built: BuiltProblem,
    h: IntArray,
    lot: IntArray,
    grams: npt.NDArray[np.int64],
    pieces: npt.NDArray[np.int64],
) -> None:
    """Never above a point's kg capacity: what rounding put over it is taken back from the
    point's kg lots, each basket in proportion to its kg (so coverages stay level), then
    whole pieces from the best-covered baskets."""
    problem = built.problem
    n_h = len(problem.households)
    point_of_row = built.point_of_household[h]
    for p, point in enumerate(problem.points):
        if point.capacity_kg is None:
            continue
        rows = np.flatnonzero(point_of_row == p)
        excess = int(grams[rows].sum()) - math.floor(point.capacity_kg * GRAM + 1e-6)
        if excess <= 0:
            continue
        kg_rows = rows[pieces[rows] < 0]
        held = grams[kg_rows].astype(np.float64)
        if held.sum() > 0:
            cut = np.minimum(np.ceil(held * min(1.0, excess / held.sum())).astype(np.int64),
                             grams[kg_rows])
            grams[kg_rows] -= cut
            excess -= int(cut.sum())
        if excess <= 0:
            continue
        per_h = np.bincount(h[rows], weights=grams[rows], minlength=n_h)
        coverage = per_h / np.maximum(built.needs, 1e-12)
        for r in sorted(rows[pieces[rows] > 0].tolist(),
                        key=lambda r: (-coverage[h[r]], r)):
            unit_g = int(round(built.unit_kg[lot[r]] * GRAM))
            while excess > 0 and pieces[r] > 0:
                pieces[r] -= 1
                grams[r] -= unit_g
                excess -= unit_g


def _take_back(grams: npt.NDArray[np.int64], rows: IntArray, excess: int) -> int:
    """Remove up to ``excess`` grams from ``rows``, largest first; return how many."""
    taken = 0
    for r in rows[np.argsort(-grams[rows], kind="stable")]:
        if taken >= excess:
            break
        t = min(int(grams[r]), excess - taken)
        grams[r] -= t
        taken += t
    return taken


def split(
    built: BuiltProblem, solution: ClassSolution
) -> tuple[tuple[Basket, ...], FloatArray]:
    """Split the class solution into baskets; return them with kg allocated per lot.

    Parameters
    ----------
    built, solution
        The built problem and its class-level LP answer.

    Returns
    -------
    baskets
        One per household, in the problem's order.
    allocated
        Kilograms allocated per lot, in the problem's order.
    """
    problem = built.problem
    amounts = round_class_pieces(built, solution.amounts)
    entries = _Entries()
    for c in range(len(built.classes)):
        if amounts[c].sum() > 0:
            _split_class(built, c, amounts[c], entries)
    h, lot, kg, pieces = _merge(*entries.columns())
    # A kg lot handed back and re-pooled is exact in reals; in floats scale any sliver off.
    is_kg = pieces < 0
    totals = np.bincount(lot[is_kg], weights=kg[is_kg], minlength=len(problem.lots))
    over = totals > built.usable_kg
    if over.any():
        factor = np.where(over, built.usable_kg / np.where(totals > 0, totals, 1.0), 1.0)
        kg = np.where(is_kg, kg * factor[lot], kg)
    grams = _to_grams(built, h, lot, kg, pieces)
    keep = grams > 0
    h, lot, grams, pieces = h[keep], lot[keep], grams[keep], pieces[keep]
    allocated = np.bincount(lot, weights=grams, minlength=len(problem.lots)) / GRAM

    lot_ids = [x.id for x in problem.lots]
    starts = np.searchsorted(h, np.arange(len(problem.households) + 1)).tolist()
    baskets = []
    # Built column-wise: a national week has millions of items.
    all_items = list(map(Item._make, zip(
        [lot_ids[j] for j in lot.tolist()],
        (grams / GRAM).tolist(),
        [n if n >= 0 else None for n in pieces.tolist()],
        strict=True,
    )))
    grams_per_h = np.bincount(h, weights=grams, minlength=len(problem.households)) / GRAM
    needs = built.needs.tolist()
    for i, (household, total) in enumerate(zip(problem.households, grams_per_h.tolist(),
                                               strict=True)):
        need = needs[i]
        baskets.append(Basket(household.id, tuple(all_items[starts[i]:starts[i + 1]]), total,
                              need, total / need if need else 0.0))
    return tuple(baskets), allocated


def _keep_shares(
    built: BuiltProblem,
    h: IntArray,
    lot: IntArray,
    grams: npt.NDArray[np.int64],
    pieces: npt.NDArray[np.int64],
) -> None:
    """Last guard of the basket rules: a basket above the cap per product or below a minimum
    category share (beyond a piece) gives back what breaks it (kg first, then pieces).

    The split keeps the rules in almost every basket; this catches the few that whole pieces
    left without a way to even out (a household with no piece of the only other product).
    Rows are sorted by household (see :func:`_merge`).
    """
    problem = built.problem
    policy = problem.policy
    shares = {k: s for k, s in policy.min_category_share.items() if s > 0}
    cap = policy.max_product_share
    if (cap >= 1.0 and not shares) or len(h) == 0:
        return
    lots = problem.lots
    products = sorted({x.product for x in lots})
    categories = sorted({x.category for x in lots})
    product_of = np.array([products.index(x.product) for x in lots], dtype=np.int64)
    category_of = np.array([categories.index(x.category) for x in lots], dtype=np.int64)
    unit_g = np.rint(built.unit_kg * GRAM).astype(np.int64)
    n_h = len(problem.households)
    starts = np.searchsorted(h, np.arange(n_h + 1))
    rule_columns = [(categories.index(k), s, np.array(
        [k not in x.excluded_categories for x in problem.households], dtype=bool))
        for k, s in sorted(shares.items()) if k in categories]
    for _ in range(3):
        suspects = _share_suspects(h, lot, grams, pieces, product_of, category_of, unit_g,
                                   len(products), len(categories), n_h, cap, rule_columns)
        changed = False
        for hh in suspects.tolist():
            rows = np.arange(starts[hh], starts[hh + 1])
            rules = {k: s for k, s, applies in rule_columns if applies[hh]}
            changed |= _repair_basket(rows, grams, pieces, product_of[lot[rows]],
                                      category_of[lot[rows]], unit_g[lot[rows]], cap, rules)
        if not changed:
            return


def _share_suspects(
    h: IntArray, lot: IntArray, grams: npt.NDArray[np.int64], pieces: npt.NDArray[np.int64],
    product_of: IntArray, category_of: IntArray, unit_g: IntArray, n_products: int,
    n_categories: int, n_h: int, cap: float,
    rule_columns: list[tuple[int, float, npt.NDArray[np.bool_]]],
) -> IntArray:
    """Households whose basket breaks a share rule beyond the tolerance (vectorised)."""
    total = np.bincount(h, weights=grams, minlength=n_h)
    piece = np.zeros(n_h)
    has = pieces > 0
    np.maximum.at(piece, h[has], unit_g[lot[has]].astype(np.float64))
    tol = _tolerance_g(piece)
    bad = np.zeros(n_h, dtype=bool)
    if cap < 1.0:
        per = np.bincount(h * n_products + product_of[lot], weights=grams,
                          minlength=n_h * n_products).reshape(n_h, n_products)
        bad |= per.max(axis=1) > cap * total + tol
    if rule_columns:
        per = np.bincount(h * n_categories + category_of[lot], weights=grams,
                          minlength=n_h * n_categories).reshape(n_h, n_categories)
        for k, s, applies in rule_columns:
            bad |= applies & (total > 0) & (per[:, k] < s * total - tol)
    return np.flatnonzero(bad)


def _tolerance_g(piece_g: FloatArray | float) -> FloatArray | float:
    """Grams a share may be off: a little under the basket's largest piece."""
    return np.maximum(0.0, 0.98 * np.asarray(piece_g) - 2.0)


def _repair_basket(
    rows: IntArray, grams: npt.NDArray[np.int64], pieces: npt.NDArray[np.int64],
    product: IntArray, category: IntArray, unit_g: IntArray, cap: float,
    rules: dict[int, float],
) -> bool:
    """Give back from one basket until its shares hold; return whether anything changed."""
    changed = False
    for _ in range(4 * len(rows) + 4):
        g = grams[rows]
        total = float(g.sum())
        if total <= 0:
            break
        has = pieces[rows] > 0
        tol = float(_tolerance_g(float(unit_g[has].max()) if has.any() else 0.0))
        victim: IntArray | None = None
        need = 0.0
        if cap < 1.0:
            per = np.bincount(product, weights=g)
            p = int(np.argmax(per))
            if per[p] > cap * total + tol:
                need = (per[p] - cap * total - tol) / (1.0 - cap)
                victim = np.flatnonzero((product == p) & (g > 0))
        if victim is None:
            for k, s in sorted(rules.items()):
                part = float(g[category == k].sum())
                if part < s * total - tol:
                    need = total - (part + tol) / s
                    victim = np.flatnonzero((category != k) & (g > 0))
                    break
        if victim is None or len(victim) == 0:
            break
        changed = True
        left = math.ceil(need - 1e-9)
        kg_rows = rows[victim[pieces[rows[victim]] < 0]]
        left -= _take_back(grams, kg_rows, left)
        if left > 0:
            piece_rows = rows[victim[pieces[rows[victim]] > 0]]
            # One piece at a time, the smallest first, then the rules are looked at again.
            if len(piece_rows):
                r = piece_rows[np.argsort(unit_g[victim[pieces[rows[victim]] > 0]],
                                          kind="stable")[0]]
                pieces[r] -= 1
                grams[r] -= int(unit_g[np.flatnonzero(rows == r)[0]])
    return changed
