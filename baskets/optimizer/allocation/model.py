"""Problem and result dataclasses of the fair allocation (plain data, no behaviour beyond views)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

STATUS_OPTIMAL = "optimal"
STATUS_FEASIBLE = "feasible"
STATUS_INFEASIBLE = "infeasible"


def consumption_units(adults: int, children: int, infants: int = 0) -> float:
    """Return the modified OECD consumption units of a household.

    Parameters
    ----------
    adults, children, infants
        Counts of members; infants count as children.

    Returns
    -------
    float
        1 for the first member, 0.5 for each further adult, 0.3 for each further child.
        A household without adults counts its first child as the first member.
    """
    young = children + infants
    if adults >= 1:
        return 1.0 + 0.5 * (adults - 1) + 0.3 * young
    if young >= 1:
        return 1.0 + 0.3 * (young - 1)
    return 0.0


@dataclass(frozen=True, slots=True)
class Policy:
    """The distribution policy set by the coordinators for one week.

    Attributes
    ----------
    kg_per_consumption_unit
        Kilograms of produce a household needs per consumption unit.
    max_coverage
        No household receives more than this fraction of its need (e.g. 1.25).
    min_category_share
        Minimum share of each basket's kg per category (``{"vegetable": 0.4}``); a rule does
        not apply to a household that excludes the category.
    max_product_share
        Maximum share of each basket's kg for any one product (1.0 switches the rule off).
    """

    kg_per_consumption_unit: float
    max_coverage: float
    min_category_share: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    max_product_share: float = 1.0


@dataclass(frozen=True, slots=True)
class Point:
    """A distribution point, with optional capacities (kg per week, baskets per week)."""

    id: str
    lat: float
    lon: float
    capacity_kg: float | None = None
    capacity_baskets: int | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    """One farmer's supply lot for the week; ``unit_kg`` set means it goes out in whole pieces."""

    id: str
    product: str
    category: str
    quantity_kg: float
    unit_kg: float | None
    shelf_life_days: float
    lat: float
    lon: float

    @property
    def pieces(self) -> int | None:
        """Whole pieces the lot holds (``None`` for a lot sold by weight)."""
        if self.unit_kg is None:
            return None
        # A small tolerance so 3 x 0.1 kg counts as 3 pieces despite binary floats.
        return int(self.quantity_kg / self.unit_kg + 1e-9)

    @property
    def usable_kg(self) -> float:
        """Kilograms that can actually go out (whole pieces only for piece lots)."""
        if self.unit_kg is None:
            return self.quantity_kg
        return (self.pieces or 0) * self.unit_kg


@dataclass(frozen=True, slots=True)
class Household:
    """A registered household; ``carry_over`` is last week's under-coverage (0.2 = 20% short)."""

    id: str
    point: str
    adults: int
    children: int
    infants: int = 0
    excluded_products: frozenset[str] = frozenset()
    excluded_categories: frozenset[str] = frozenset()
    carry_over: float = 0.0

    @property
    def consumption_units(self) -> float:
        """Modified OECD consumption units (see :func:`consumption_units`)."""
        return consumption_units(self.adults, self.children, self.infants)

    def may_receive(self, lot: Lot) -> bool:
        """Whether the lot's product and category are both allowed in this household's basket."""
        return (
            lot.product not in self.excluded_products
            and lot.category not in self.excluded_categories
        )


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """Everything the allocation decides from: policy, points, lots and households."""

    policy: Policy
    points: tuple[Point, ...]
    lots: tuple[Lot, ...]
    households: tuple[Household, ...]


class Item(NamedTuple):
    """Kilograms of one lot (``pieces`` set for a lot sold by the piece).

    A named tuple rather than a dataclass: a national week has millions of them.
    """

    lot: str
    kg: float
    pieces: int | None = None


@dataclass(frozen=True, slots=True)
class Basket:
    """One household's basket with its need and coverage (kg received / need)."""

    household: str
    items: tuple[Item, ...]
    kg: float
    need_kg: float
    coverage: float


@dataclass(frozen=True, slots=True)
class Binding:
    """A rule that limits the allocation, with how much it costs.

    Attributes
    ----------
    rule
        Machine name: ``supply``, ``min_category_share``, ``max_product_share``,
        ``point_capacity_kg``, ``point_capacity_baskets``, ``exclusions``.
    message, message_fr
        The explanation in English and French.
    limit_coverage
        The worst coverage this rule allows (``None`` when it does not cap coverage).
    missing_kg
        Kilograms of supply that would lift the limit (``None`` when not meaningful).
    subject
        The category, product or point the rule is about, if any.
    relaxed_coverage
        The worst coverage reachable if this rule alone were lifted.
    """

    rule: str
    message: str
    message_fr: str
    limit_coverage: float | None = None
    missing_kg: float | None = None
    subject: str | None = None
    relaxed_coverage: float | None = None


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """The solver's answer.

    Attributes
    ----------
    status
        ``optimal`` (every LP stage proved optimal, pieces rounded), ``feasible`` (a stage
        stopped early, e.g. on the time limit) or ``infeasible`` (no allocation was found).
    baskets
        One basket per household, in the problem's order (empty items for households served
        nothing).
    unallocated
        What is left of each lot, in the problem's order (lots fully allocated omitted).
    binding
        Rules that limit the worst coverage or the kg allocated.
    bound_min_coverage
        The worst coverage of the LP relaxation (an upper bound for any whole-piece answer).
    metrics
        Summary figures: ``min_coverage``, ``mean_coverage``, ``kg_allocated``, ``kg_supply``,
        ``households``, ``households_served``, ``classes``, ``lp_variables``, ``seconds``...
    """

    status: str
    baskets: tuple[Basket, ...]
    unallocated: tuple[Item, ...]
    binding: tuple[Binding, ...]
    bound_min_coverage: float
    metrics: Mapping[str, float | int]
