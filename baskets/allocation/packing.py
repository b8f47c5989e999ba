"""What volunteers can weigh: a point's baskets turned into portions of 0.1 kg or whole pieces.

The allocation shares produce in fractions of a gram; a volunteer with a kitchen scale packs
to 0.1 kg. This one function (`pack_point`) rounds every basket of a point so that the
portions of a product add up to what the point receives (largest remainders: each basket is
within 0.1 kg of its share), drops the lines that round to nothing, and names the products
too small to split between their baskets (fewer 0.1 kg steps than baskets): those are handed
out loose on the day. The point's page, its printout, the packing-list API and the basket
exports all read it, so they never disagree.

Pure: plain values in, frozen dataclasses out; no database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STEP_KG = 0.1  # what a kitchen scale at a distribution point weighs reliably


@dataclass(frozen=True)
class ProductInfo:
    """What packing needs of a catalogue product."""

    name: str
    category: str
    unit_kg: float | None  # sold by the piece when set


@dataclass(frozen=True)
class Portion:
    """One product in one basket, as it is packed."""

    product_id: str
    product: str
    category: str
    kg: float  # a multiple of 0.1 kg, or pieces × unit weight
    pieces: int | None  # whole pieces for products sold by the piece


@dataclass(frozen=True)
class PointLine:
    """One product the point receives."""

    product_id: str
    product: str
    category: str
    kg: float
    pieces: int | None
    baskets: int  # baskets it goes into (or would, for a product too small to split)
    too_small: bool  # fewer 0.1 kg steps than baskets: handed out loose, not in the baskets


@dataclass(frozen=True)
class SizeLine:
    """One product across the baskets of one size: its smallest and largest portion."""

    product: str
    kg_min: float
    kg_max: float
    pieces_min: int | None
    pieces_max: int | None
    baskets: int  # how many baskets of this size get it


@dataclass(frozen=True)
class SizeGroup:
    """The baskets of one size and what they hold."""

    size: str
    baskets: int
    lines: tuple[SizeLine, ...]


@dataclass(frozen=True)
class PackedPoint:
    """A point's packing: the lines it receives and each basket's portions."""

    lines: tuple[PointLine, ...]
    portions: Mapping[Hashable, tuple[Portion, ...]]

    @property
    def too_small(self) -> tuple[PointLine, ...]:
        """The products handed out loose."""
        return tuple(line for line in self.lines if line.too_small)

    def basket_kg(self, key: Hashable) -> float:
        """What one basket weighs once packed."""
        return round(sum(p.kg for p in self.portions.get(key, ())), 1)


def _steps(shares: dict[Hashable, float], total_steps: int) -> dict[Hashable, int]:
    """Whole 0.1 kg steps per basket adding up to `total_steps`, each within one step of its
    share (largest remainders; ties go to the larger share, then to the first key)."""
    quotas = {key: kg / STEP_KG for key, kg in shares.items()}
    steps = {key: math.floor(q + 1e-9) for key, q in quotas.items()}
    left = total_steps - sum(steps.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - steps[k]), -quotas[k], str(k)))
    for key in order[:max(left, 0)]:
        steps[key] += 1
    return steps


def pack_point(baskets: Iterable[tuple[Hashable, list[dict[str, Any]]]],
               products: Mapping[str, ProductInfo]) -> PackedPoint:
    """Round the baskets of one point to what volunteers can weigh.

    `baskets` gives each basket's key and its stored items (``{"product_id", "kg",
    "pieces"}``, several lots of a product adding up); `products` the catalogue by id.
    """
    kg_shares: dict[str, dict[Hashable, float]] = defaultdict(lambda: defaultdict(float))
    piece_shares: dict[str, dict[Hashable, int]] = defaultdict(lambda: defaultdict(int))
    keys: list[Hashable] = []
    for key, items in baskets:
        keys.append(key)
        for item in items:
            product_id = str(item["product_id"])
            info = products[product_id]
            if info.unit_kg and item.get("pieces") is not None:
                if int(item["pieces"]) > 0:
                    piece_shares[product_id][key] += int(item["pieces"])
            elif float(item["kg"]) > 0:
                kg_shares[product_id][key] += float(item["kg"])
    portions: dict[Hashable, list[Portion]] = {key: [] for key in keys}
    lines: list[PointLine] = []
    for product_id, pieces_of in piece_shares.items():
        info = products[product_id]
        unit = float(info.unit_kg or 0.0)
        for key, pieces in pieces_of.items():
            portions[key].append(Portion(product_id, info.name, info.category,
                                         round(pieces * unit, 2), pieces))
        total_pieces = sum(pieces_of.values())
        lines.append(PointLine(product_id, info.name, info.category,
                               round(total_pieces * unit, 1), total_pieces, len(pieces_of),
                               False))
    for product_id, shares in kg_shares.items():
        info = products[product_id]
        total_kg = sum(shares.values())
        total_steps = round(total_kg / STEP_KG)
        if total_steps < len(shares):
            lines.append(PointLine(product_id, info.name, info.category, round(total_kg, 2),
                                   None, len(shares), True))
            continue
        steps = _steps(dict(shares), total_steps)
        for key, count in steps.items():
            if count > 0:
                portions[key].append(Portion(product_id, info.name, info.category,
                                             round(count * STEP_KG, 1), None))
        lines.append(PointLine(product_id, info.name, info.category,
                               round(total_steps * STEP_KG, 1), None,
                               sum(1 for c in steps.values() if c > 0), False))
    lines.sort(key=lambda line: (line.too_small, line.product))
    return PackedPoint(
        lines=tuple(lines),
        portions={key: tuple(sorted(found, key=lambda p: p.product))
                  for key, found in portions.items()})


def by_size(packed: PackedPoint, sizes: Mapping[Hashable, str]) -> tuple[SizeGroup, ...]:
    """The baskets grouped by size label, each product with its smallest and largest
    portion in that size (baskets left empty by the rounding are not counted)."""
    groups: dict[str, list[Hashable]] = defaultdict(list)
    for key, size in sizes.items():
        if packed.portions.get(key):
            groups[size].append(key)
    result = []
    for size in sorted(groups):
        found: dict[str, list[Portion]] = defaultdict(list)
        for key in groups[size]:
            for portion in packed.portions[key]:
                found[portion.product].append(portion)
        lines = []
        for product in sorted(found):
            portions = found[product]
            pieces = [p.pieces for p in portions if p.pieces is not None]
            lines.append(SizeLine(
                product, min(p.kg for p in portions), max(p.kg for p in portions),
                min(pieces) if pieces else None, max(pieces) if pieces else None,
                len(portions)))
        result.append(SizeGroup(size, len(groups[size]), tuple(lines)))
    return tuple(result)


def describe(portions: Iterable[Portion]) -> str:
    """French text of a packed basket: "Poireaux 0,4 kg ; Œufs ×2" (exports)."""
    parts = []
    for portion in portions:
        if portion.pieces is not None:
            parts.append(f"{portion.product} ×{portion.pieces}")
        else:
            parts.append(f"{portion.product} {portion.kg:.1f} kg".replace(".", ","))
    return " ; ".join(parts)
