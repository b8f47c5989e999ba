"""Scenario files: parsed JSON to a problem (with precise errors), result to the output JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from baskets.optimizer.allocation.model import (
    AllocationProblem,
    AllocationResult,
    Household,
    Lot,
    Point,
    Policy,
)
from baskets.scenario import ScenarioError

_MISSING = object()


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: must be an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _get(obj: Mapping[str, Any], name: str, where: str, default: Any = _MISSING) -> Any:
    if name in obj:
        return obj[name]
    if default is _MISSING:
        raise ScenarioError(f"{where}.{name}: missing")
    return default


def _number(
    obj: Mapping[str, Any],
    name: str,
    where: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    default: Any = _MISSING,
) -> Any:
    value = _get(obj, name, where, default)
    if value is None and default is None:
        return None
    path = f"{where}.{name}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{path}: must be a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise ScenarioError(f"{path}: must be a finite number, got {value}")
    if positive and value <= 0:
        raise ScenarioError(f"{path}: must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise ScenarioError(f"{path}: must be >= {minimum:g}, got {value}")
    if maximum is not None and value > maximum:
        raise ScenarioError(f"{path}: must be <= {maximum:g}, got {value}")
    return float(value)


def _count(obj: Mapping[str, Any], name: str, where: str, default: Any = _MISSING) -> Any:
    value = _get(obj, name, where, default)
    if value is None and default is None:
        return None
    path = f"{where}.{name}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{path}: must be a whole number, got {_kind(value)}")
    if value < 0:
        raise ScenarioError(f"{path}: must be >= 0, got {value}")
    return value


def _text(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = _get(obj, name, where)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # ids written as numbers are still ids
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{name}: must be a non-empty string, got {_kind(value)}")
    return value


def _texts(obj: Mapping[str, Any], name: str, where: str) -> frozenset[str]:
    value = _get(obj, name, where, [])
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ScenarioError(f"{where}.{name}: must be a list of strings, got {_kind(value)}")
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise ScenarioError(f"{where}.{name}[{i}]: must be a string, got {_kind(v)}")
    return frozenset(value)


def _list(data: Mapping[str, Any], name: str) -> list[Any]:
    value = _get(data, name, "scenario")
    if not isinstance(value, list):
        raise ScenarioError(f"{name}: must be a list, got {_kind(value)}")
    return value


def _unique(seen: dict[str, int], ident: str, where: str, kind: str) -> None:
    if ident in seen:
        raise ScenarioError(f"{where}.id: duplicate {kind} id {ident!r} (first at index "
                            f"{seen[ident]})")
    seen[ident] = len(seen)


def _policy(data: Mapping[str, Any], categories: set[str]) -> Policy:
    raw = _obj(_get(data, "policy", "scenario"), "policy")
    shares_raw = _get(raw, "min_category_share", "policy", {})
    shares_raw = _obj({} if shares_raw is None else shares_raw, "policy.min_category_share")
    shares: dict[str, float] = {}
    for category in shares_raw:
        where = f"policy.min_category_share.{category}"
        if category not in categories:
            known = ", ".join(sorted(categories)) or "none"
            raise ScenarioError(f"{where}: unknown category {category!r} (lots have: {known})")
        shares[category] = _number(shares_raw, category, "policy.min_category_share",
                                   minimum=0.0, maximum=1.0)
    if sum(shares.values()) > 1.0 + 1e-9:
        raise ScenarioError(
            f"policy.min_category_share: shares add up to {sum(shares.values()):g}, above 1"
        )
    return Policy(
        kg_per_consumption_unit=_number(raw, "kg_per_consumption_unit", "policy", positive=True),
        max_coverage=_number(raw, "max_coverage", "policy", positive=True),
        min_category_share=MappingProxyType(shares),
        max_product_share=_number(raw, "max_product_share", "policy", positive=True,
                                  maximum=1.0, default=1.0),
    )


def parse_problem(data: Any) -> AllocationProblem:
    """Validate the parsed JSON of a scenario and return the problem.

    Parameters
    ----------
    data
        The parsed JSON (see the issue's contract).

    Returns
    -------
    AllocationProblem

    Raises
    ------
    ScenarioError
        With the path of the first bad field and why (``lots[3].quantity_kg: must be >= 0,
        got -5``).
    """
    data = _obj(data, "scenario")
    points: list[Point] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(_list(data, "points")):
        where = f"points[{i}]"
        raw = _obj(raw, where)
        ident = _text(raw, "id", where)
        _unique(seen, ident, where, "point")
        points.append(Point(
            id=ident,
            lat=_number(raw, "lat", where, minimum=-90, maximum=90),
            lon=_number(raw, "lon", where, minimum=-180, maximum=180),
            capacity_kg=_number(raw, "capacity_kg", where, minimum=0.0, default=None),
            capacity_baskets=_count(raw, "capacity_baskets", where, default=None),
        ))
    lots: list[Lot] = []
    seen = {}
    for i, raw in enumerate(_list(data, "lots")):
        where = f"lots[{i}]"
        raw = _obj(raw, where)
        ident = _text(raw, "id", where)
        _unique(seen, ident, where, "lot")
        lots.append(Lot(
            id=ident,
            product=_text(raw, "product", where),
            category=_text(raw, "category", where),
            quantity_kg=_number(raw, "quantity_kg", where, minimum=0.0),
            unit_kg=_number(raw, "unit_kg", where, positive=True, default=None),
            shelf_life_days=_number(raw, "shelf_life_days", where, minimum=0.0),
            lat=_number(raw, "lat", where, minimum=-90, maximum=90),
            lon=_number(raw, "lon", where, minimum=-180, maximum=180),
        ))
    policy = _policy(data, {lot.category for lot in lots})
    point_ids = {p.id for p in points}
    households: list[Household] = []
    seen = {}
    for i, raw in enumerate(_list(data, "households")):
        where = f"households[{i}]"
        raw = _obj(raw, where)
        ident = _text(raw, "id", where)
        _unique(seen, ident, where, "household")
        point = _text(raw, "point", where)
        if point not in point_ids:
            raise ScenarioError(f"{where}.point: unknown point {point!r}")
        adults = _count(raw, "adults", where)
        children = _count(raw, "children", where)
        infants = _count(raw, "infants", where, default=0)
        if adults + children + infants == 0:
            raise ScenarioError(f"{where}: a household needs at least one member")
        households.append(Household(
            id=ident,
            point=point,
            adults=adults,
            children=children,
            infants=infants,
            excluded_products=_texts(raw, "excluded_products", where),
            excluded_categories=_texts(raw, "excluded_categories", where),
            carry_over=_number(raw, "carry_over", where, minimum=0.0, maximum=1.0, default=0.0),
        ))
    return AllocationProblem(policy, tuple(points), tuple(lots), tuple(households))


def _kg(value: float) -> float:
    return round(value, 3)


def result_to_dict(result: AllocationResult) -> dict[str, Any]:
    """Return the contract's output JSON for a result (kg to the gram)."""
    baskets = []
    for basket in result.baskets:
        items: list[dict[str, Any]] = []
        for item in basket.items:
            entry: dict[str, Any] = {"lot": item.lot, "kg": _kg(item.kg)}
            if item.pieces is not None:
                entry["pieces"] = item.pieces
            items.append(entry)
        baskets.append({
            "household": basket.household,
            "items": items,
            "kg": _kg(basket.kg),
            "need_kg": _kg(basket.need_kg),
            "coverage": round(basket.coverage, 4),
        })
    binding = []
    for b in result.binding:
        entry = {"rule": b.rule, "message": b.message, "message_fr": b.message_fr}
        for name in ("limit_coverage", "relaxed_coverage"):
            value = getattr(b, name)
            if value is not None:
                entry[name] = round(value, 4)
        if b.missing_kg is not None:
            entry["missing_kg"] = _kg(b.missing_kg)
        if b.subject is not None:
            entry["subject"] = b.subject
        binding.append(entry)
    return {
        "status": result.status,
        "baskets": baskets,
        "unallocated": [{"lot": u.lot, "kg": _kg(u.kg)} for u in result.unallocated],
        "binding": binding,
        "metrics": dict(result.metrics),
    }
