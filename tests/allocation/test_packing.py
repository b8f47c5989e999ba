"""Packing to what volunteers weigh: 0.1 kg portions that add up, pieces whole, no empty line,
products too small to split named."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from baskets.allocation.packing import STEP_KG, ProductInfo, by_size, describe, pack_point

PRODUCTS = {
    "leek": ProductInfo("Poireaux", "vegetable", None),
    "parsley": ProductInfo("Persil", "vegetable", None),
    "eggs": ProductInfo("Œufs (boîte de 6)", "protein", 0.36),
}


def _item(product: str, kg: float, pieces: int | None = None) -> dict[str, object]:
    return {"product_id": product, "kg": kg, "pieces": pieces}


def test_portions_are_tenths_adding_up_to_the_point_total() -> None:
    """Three baskets sharing 1.0 kg as 0.334/0.333/0.333 get 0.4/0.3/0.3: 0.1 kg steps that
    add up to what the point receives; the largest share gets the spare step."""
    packed = pack_point([("a", [_item("leek", 0.334)]), ("b", [_item("leek", 0.333)]),
                         ("c", [_item("leek", 0.333)])], PRODUCTS)
    assert [packed.portions[k][0].kg for k in "abc"] == [0.4, 0.3, 0.3]
    (line,) = packed.lines
    assert (line.kg, line.baskets, line.too_small) == (1.0, 3, False)


def test_a_share_that_rounds_to_nothing_leaves_the_basket() -> None:
    """A basket with 0.001 kg of leeks has no leek line (no "0,0 kg"); the others keep the
    point's total."""
    packed = pack_point([("a", [_item("leek", 0.001), _item("eggs", 0.36, 1)]),
                         ("b", [_item("leek", 1.2)])], PRODUCTS)
    assert [p.product for p in packed.portions["a"]] == ["Œufs (boîte de 6)"]
    assert packed.portions["b"][0].kg == 1.2
    assert all(p.kg > 0 for ps in packed.portions.values() for p in ps)


def test_a_product_too_small_to_split_is_named_and_kept_out_of_the_baskets() -> None:
    """0.3 kg of parsley for twelve baskets cannot be weighed out: the line says so, with its
    kilos and the twelve baskets, and no basket lists parsley."""
    baskets = [(k, [_item("parsley", 0.025), _item("leek", 1.0)]) for k in range(12)]
    packed = pack_point(baskets, PRODUCTS)
    (small,) = packed.too_small
    assert (small.product, small.kg, small.baskets) == ("Persil", 0.3, 12)
    assert all([p.product for p in ps] == ["Poireaux"] for ps in packed.portions.values())
    assert packed.lines[-1] is small  # listed after what goes into the baskets


def test_pieces_stay_whole_and_empty_ones_go() -> None:
    """Eggs by the box: whole boxes per basket, their weight from the unit, zero boxes shown
    nowhere; the point's line counts the boxes."""
    packed = pack_point([("a", [_item("eggs", 0.72, 2)]), ("b", [_item("eggs", 0.0, 0)])],
                        PRODUCTS)
    assert packed.portions["a"][0].pieces == 2
    assert packed.portions["a"][0].kg == 0.72
    assert packed.portions["b"] == ()
    (line,) = packed.lines
    assert (line.pieces, line.kg, line.baskets) == (2, 0.7, 1)
    assert describe(packed.portions["a"]) == "Œufs (boîte de 6) ×2"


def test_sizes_show_the_smallest_and_largest_portion() -> None:
    """Two baskets of one size with 0.3 and 0.4 kg show 0.3 to 0.4 kg for both baskets."""
    packed = pack_point([("a", [_item("leek", 0.34)]), ("b", [_item("leek", 0.36)]),
                         ("c", [_item("leek", 1.0)])], PRODUCTS)
    groups = by_size(packed, {"a": "1 UC", "b": "1 UC", "c": "plus de 2,6 UC"})
    assert [(g.size, g.baskets) for g in groups] == [("1 UC", 2), ("plus de 2,6 UC", 1)]
    (line,) = groups[0].lines
    assert (line.kg_min, line.kg_max, line.baskets) == (0.3, 0.4, 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=5.0, allow_nan=False), min_size=1,
                max_size=30))
def test_rounding_keeps_the_total_and_each_share_within_a_step(shares: list[float]) -> None:
    """For any shares: either the product is too small (fewer steps than baskets) or the
    portions are whole steps, add up to the rounded total and each is within one step of
    its share."""
    baskets = [(k, [_item("leek", kg)]) for k, kg in enumerate(shares)]
    packed = pack_point(baskets, PRODUCTS)
    given_to = [k for k, kg in enumerate(shares) if kg > 0]
    if not given_to:
        assert packed.lines == ()
        return
    (line,) = packed.lines
    total_steps = round(sum(shares) / STEP_KG)
    if line.too_small:
        assert total_steps < len(given_to)
        assert all(ps == () for ps in packed.portions.values())
        return
    portions = {k: ps[0].kg for k, ps in packed.portions.items() if ps}
    assert math.isclose(sum(portions.values()), total_steps * STEP_KG, abs_tol=1e-6)
    assert math.isclose(line.kg, total_steps * STEP_KG, abs_tol=1e-6)
    for k, kg in portions.items():
        assert kg > 0
        assert math.isclose(kg * 10, round(kg * 10), abs_tol=1e-6)
        assert abs(kg - shares[k]) < STEP_KG + 1e-9
