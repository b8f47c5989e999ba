"""Build step: group interchangeable households into classes and lay out the class-level LP.

Households with the same eligible lots, the same carry-over target and (when the point matters)
the same point are interchangeable: every rule of the allocation is proportional to need, so an
optimal LP over classes, split in proportion to need, is optimal for the households too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from baskets.optimizer.allocation.model import AllocationProblem, Household, Lot

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Past this many class x lot variables the point is dropped from the class key of points
# without capacity (transport then only steers the split, not the LP): keeps the LP to seconds.
DEFAULT_MAX_LP_VARIABLES = 120_000

Pattern = tuple[frozenset[str], frozenset[str]]
ClassKey = tuple[int | None, Pattern, float]


@dataclass(frozen=True, slots=True)
class HouseholdClass:
    """Interchangeable households: same eligible lots, target and (maybe) point."""

    point: int | None
    members: IntArray
    needs: FloatArray
    need_kg: float
    target: float
    lots: IntArray
    share_categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BuiltProblem:
    """The class-level view of a problem, ready to solve."""

    problem: AllocationProblem
    classes: tuple[HouseholdClass, ...]
    needs: FloatArray
    served: npt.NDArray[np.bool_]
    usable_kg: FloatArray
    unit_kg: FloatArray
    perishability: FloatArray
    point_of_household: IntArray
    unserved_by_point: dict[int, int]
    pooled: bool


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (good enough to rank farms by nearness)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def household_target(household: Household, max_coverage: float) -> float:
    """Relative target of a household: 1 plus last week's shortfall, never above the cap."""
    return min(1.0 + max(0.0, household.carry_over), max_coverage)


def select_served(problem: AllocationProblem) -> tuple[npt.NDArray[np.bool_], dict[int, int]]:
    """Pick who a point with a basket capacity serves: most carried-over shortfall first."""
    point_index = {p.id: i for i, p in enumerate(problem.points)}
    served = np.ones(len(problem.households), dtype=bool)
    unserved: dict[int, int] = {}
    by_point: dict[int, list[int]] = {}
    for h, household in enumerate(problem.households):
        by_point.setdefault(point_index[household.point], []).append(h)
    for p, members in by_point.items():
        cap = problem.points[p].capacity_baskets
        if cap is None or len(members) <= cap:
            continue
        # Stable sort: ties keep the file's order, so the answer is reproducible.
        ranked = sorted(members, key=lambda h: -problem.households[h].carry_over)
        for h in ranked[cap:]:
            served[h] = False
        unserved[p] = len(members) - cap
    return served, unserved


def _eligible_lots(lots: tuple[Lot, ...], household: Household) -> tuple[int, ...]:
    return tuple(i for i, lot in enumerate(lots) if household.may_receive(lot))


def build(
    problem: AllocationProblem, *, max_lp_variables: int = DEFAULT_MAX_LP_VARIABLES
) -> BuiltProblem:
    """Group households into classes (see the module docstring).

    Parameters
    ----------
    problem
        A validated problem.
    max_lp_variables
        Above this many class x lot variables, points without capacity are pooled.

    Returns
    -------
    BuiltProblem
    """
    policy = problem.policy
    lots = problem.lots
    point_index = {p.id: i for i, p in enumerate(problem.points)}
    needs = np.array(
        [h.consumption_units * policy.kg_per_consumption_unit for h in problem.households],
        dtype=np.float64,
    )
    served, unserved = select_served(problem)
    point_of_household = np.array(
        [point_index[h.point] for h in problem.households], dtype=np.int64
    )
    capacitated = {
        i for i, p in enumerate(problem.points) if p.capacity_kg is not None
    }
    products = {lot.product for lot in lots}
    categories = {lot.category for lot in lots}

    # Exclusions matter only for products and categories on offer this week.
    eligibility_cache: dict[Pattern, tuple[int, ...]] = {}
    keys: list[tuple[int, Pattern, float] | None] = []
    for h, household in enumerate(problem.households):
        if not served[h] or needs[h] <= 0:
            keys.append(None)
            continue
        pattern = (
            household.excluded_products & products,
            household.excluded_categories & categories,
        )
        if pattern not in eligibility_cache:
            eligibility_cache[pattern] = _eligible_lots(lots, household)
        target = household_target(household, policy.max_coverage)
        keys.append((int(point_of_household[h]), pattern, target))

    def group(pool_free_points: bool) -> dict[ClassKey, list[int]]:
        groups: dict[ClassKey, list[int]] = {}
        for h, key in enumerate(keys):
            if key is None:
                continue
            point, pattern, target = key
            pkey: int | None = point
            if pool_free_points and point not in capacitated:
                pkey = None
            groups.setdefault((pkey, pattern, target), []).append(h)
        return groups

    groups = group(False)
    size = sum(len(eligibility_cache[k[1]]) for k in groups)
    pooled = size > max_lp_variables
    if pooled:
        groups = group(True)

    classes = []
    for (pkey, pattern, target), members in groups.items():
        member_array = np.array(members, dtype=np.int64)
        class_needs = needs[member_array]
        excluded_categories = pattern[1]
        classes.append(
            HouseholdClass(
                point=pkey,
                members=member_array,
                needs=class_needs,
                need_kg=float(class_needs.sum()),
                target=float(target),
                lots=np.array(eligibility_cache[pattern], dtype=np.int64),
                share_categories=tuple(
                    sorted(
                        c
                        for c, share in policy.min_category_share.items()
                        if share > 0 and c not in excluded_categories
                    )
                ),
            )
        )
    return BuiltProblem(
        problem=problem,
        classes=tuple(classes),
        needs=needs,
        served=served,
        usable_kg=np.array([lot.usable_kg for lot in lots], dtype=np.float64),
        unit_kg=np.array([lot.unit_kg or 0.0 for lot in lots], dtype=np.float64),
        # Short shelf life weighs more, so perishables go out first when kg can be chosen.
        perishability=np.array(
            [1.0 / (1.0 + max(0.0, lot.shelf_life_days)) for lot in lots], dtype=np.float64
        ),
        point_of_household=point_of_household,
        unserved_by_point=unserved,
        pooled=pooled,
    )
