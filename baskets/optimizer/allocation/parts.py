"""Scale-out: split a week's problem into independent parts (one per territory) and merge.

Each lot is shared between the parts in proportion to their households' needs (whole pieces
for lots sold by the piece, largest remainders first), so every part can be solved on its own
worker; the merged answer never gives more of a lot than it holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from baskets.optimizer.allocation.model import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    AllocationProblem,
    AllocationResult,
    Basket,
    Binding,
    Item,
)


def split_problem(problem: AllocationProblem,
                  part_of: Mapping[str, str]) -> dict[str, AllocationProblem]:
    """One problem per part key; `part_of` maps each household id to its part (territory).

    Parameters
    ----------
    problem
        The whole week.
    part_of
        Household id -> part key; every household of `problem` must be mapped.

    Returns
    -------
    dict
        Part key -> problem with that part's households and points and its share of each lot,
        in sorted key order.
    """
    keys = sorted({part_of[h.id] for h in problem.households})
    need = dict.fromkeys(keys, 0.0)
    for h in problem.households:
        need[part_of[h.id]] += h.consumption_units
    total = sum(need.values())
    shares = {key: (need[key] / total if total > 0 else 1.0 / len(keys)) for key in keys}
    lots_of: dict[str, list[Any]] = {key: [] for key in keys}
    for lot in problem.lots:
        if lot.unit_kg is None:
            for key in keys:
                lots_of[key].append(replace(lot, quantity_kg=round(lot.quantity_kg * shares[key],
                                                                   6)))
            continue
        pieces = _largest_remainder(lot.pieces or 0, [shares[key] for key in keys])
        for key, count in zip(keys, pieces, strict=True):
            lots_of[key].append(replace(lot, quantity_kg=count * lot.unit_kg))
    parts = {}
    for key in keys:
        households = tuple(h for h in problem.households if part_of[h.id] == key)
        used = {h.point for h in households}
        parts[key] = replace(
            problem, households=households,
            points=tuple(p for p in problem.points if p.id in used),
            lots=tuple(lot for lot in lots_of[key] if lot.quantity_kg > 0),
        )
    return parts


def _largest_remainder(count: int, shares: Sequence[float]) -> list[int]:
    exact = [count * s for s in shares]
    whole = [math.floor(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (whole[i] - exact[i], i))
    for i in order[: count - sum(whole)]:
        whole[i] += 1
    return whole


def merge_results(problem: AllocationProblem,
                  parts: Sequence[AllocationResult]) -> AllocationResult:
    """The whole week's answer from its parts' answers (baskets in the problem's order)."""
    by_household = {b.household: b for part in parts for b in part.baskets}
    baskets = tuple(by_household[h.id] for h in problem.households if h.id in by_household)
    given: dict[str, float] = {}
    for basket in baskets:
        for item in basket.items:
            given[item.lot] = given.get(item.lot, 0.0) + item.kg
    unallocated = tuple(
        Item(lot.id, round(lot.quantity_kg - given.get(lot.id, 0.0), 3))
        for lot in problem.lots if lot.quantity_kg - given.get(lot.id, 0.0) > 0.0005
    )
    seen: set[tuple[str, str | None]] = set()
    binding = []
    for part in parts:
        for b in part.binding:
            if (b.rule, b.subject) not in seen:
                seen.add((b.rule, b.subject))
                binding.append(b)
    statuses = {part.status for part in parts}
    status = (STATUS_INFEASIBLE if STATUS_INFEASIBLE in statuses
              else STATUS_FEASIBLE if STATUS_FEASIBLE in statuses else STATUS_OPTIMAL)
    coverages = [b.coverage for b in baskets]
    served = [b.coverage for b in baskets if b.need_kg > 0 and b.items]
    metrics: dict[str, float | int] = {
        "min_coverage": round(min(coverages), 4) if coverages else 0.0,
        "min_coverage_served": round(min(served), 4) if served else 0.0,
        "mean_coverage": round(sum(coverages) / len(coverages), 4) if coverages else 0.0,
        "bound_min_coverage": round(min((p.bound_min_coverage for p in parts), default=0.0), 4),
        "kg_allocated": round(sum(given.values()), 3),
        "kg_supply": round(sum(lot.quantity_kg for lot in problem.lots), 3),
        "kg_need": round(sum(b.need_kg for b in baskets), 3),
        "households": len(problem.households),
        "households_served": len(served),
        "households_empty": sum(1 for b in baskets if not b.items),
        "parts": len(parts),
        "seconds": round(max((float(p.metrics.get("seconds", 0.0)) for p in parts),
                             default=0.0), 3),
    }
    return AllocationResult(status=status, baskets=baskets, unallocated=unallocated,
                            binding=tuple(binding),
                            bound_min_coverage=float(metrics["bound_min_coverage"]),
                            metrics=metrics)


def result_from_dict(data: Mapping[str, Any]) -> AllocationResult:
    """Read back the contract's output JSON (`result_to_dict`) of one part."""
    baskets = tuple(
        Basket(household=b["household"],
               items=tuple(Item(i["lot"], float(i["kg"]), i.get("pieces")) for i in b["items"]),
               kg=float(b["kg"]), need_kg=float(b["need_kg"]), coverage=float(b["coverage"]))
        for b in data["baskets"]
    )
    binding = tuple(
        Binding(rule=b["rule"], message=b["message"], message_fr=b["message_fr"],
                limit_coverage=b.get("limit_coverage"), missing_kg=b.get("missing_kg"),
                subject=b.get("subject"), relaxed_coverage=b.get("relaxed_coverage"))
        for b in data["binding"]
    )
    metrics = dict(data["metrics"])
    return AllocationResult(
        status=data["status"], baskets=baskets,
        unallocated=tuple(Item(u["lot"], float(u["kg"])) for u in data["unallocated"]),
        binding=binding, bound_min_coverage=float(metrics.get("bound_min_coverage", 0.0)),
        metrics=metrics,
    )
