"""Fair allocation of the week's produce to households (max-min coverage, then kg, then freshness).

Pure module: dataclasses in, dataclasses out. ``build`` groups interchangeable households into
classes, ``solve`` runs the lexicographic LP over classes (OR-Tools GLOP), ``extract`` splits
the class answer to households in whole pieces and grams.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from baskets.optimizer.allocation.build import DEFAULT_MAX_LP_VARIABLES, build
from baskets.optimizer.allocation.extract import split
from baskets.optimizer.allocation.model import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    AllocationProblem,
    AllocationResult,
    Basket,
    Binding,
    Household,
    Item,
    Lot,
    Point,
    Policy,
    consumption_units,
)
from baskets.optimizer.allocation.scenario import parse_problem, result_to_dict
from baskets.optimizer.allocation.solve import solve_classes

__all__ = [
    "STATUS_FEASIBLE",
    "STATUS_INFEASIBLE",
    "STATUS_OPTIMAL",
    "AllocationProblem",
    "AllocationResult",
    "Basket",
    "Binding",
    "Household",
    "Item",
    "Lot",
    "Point",
    "Policy",
    "consumption_units",
    "parse_problem",
    "result_to_dict",
    "run_scenario",
    "solve_allocation",
]


def solve_allocation(
    problem: AllocationProblem,
    *,
    time_limit: float,
    seed: int,
    explain: bool = True,
    max_lp_variables: int = DEFAULT_MAX_LP_VARIABLES,
) -> AllocationResult:
    """Allocate the lots to the households' baskets.

    Parameters
    ----------
    problem
        Policy, points, lots and households (see :mod:`baskets.optimizer.allocation.model`).
    time_limit
        Seconds for the LP stages; the split afterwards takes about a second per 50,000
        households on top.
    seed
        Random seed of the LP solver; equal inputs and seed give equal answers.
    explain
        Whether to re-solve with rules relaxed to say which ones bind (``binding``).
    max_lp_variables
        Above this many class x lot variables, points without a capacity are pooled in the LP
        (transport is then steered by the split only).

    Returns
    -------
    AllocationResult
        Baskets in whole pieces and grams: no lot exceeded, no exclusion broken, nobody above
        ``max_coverage``; category and product shares kept up to one piece.
    """
    started = time.perf_counter()
    built = build(problem, max_lp_variables=max_lp_variables)
    solution = solve_classes(built, time_limit=time_limit, seed=seed, explain=explain)
    baskets, allocated = split(built, solution)
    if solution.alternative is not None:
        first = _worst(built, baskets)
        if first < solution.worst - SPLIT_TOLERANCE:
            other = split(built, replace(solution, amounts=solution.alternative))
            if _worst(built, other[0]) > first:
                baskets, allocated = other

    unallocated = tuple(
        Item(lot.id, round(lot.quantity_kg - float(allocated[j]), 3))
        for j, lot in enumerate(problem.lots)
        if lot.quantity_kg - float(allocated[j]) > 0.0005
    )
    coverages = np.array([b.coverage for b in baskets]) if baskets else np.zeros(0)
    served = built.served & (built.needs > 0)
    kg_allocated = float(allocated.sum())
    metrics: dict[str, float | int] = {
        "min_coverage": round(float(coverages.min()), 4) if len(coverages) else 0.0,
        "min_coverage_served": (
            round(float(coverages[served].min()), 4) if served.any() else 0.0
        ),
        "mean_coverage": round(float(coverages.mean()), 4) if len(coverages) else 0.0,
        "bound_min_coverage": round(solution.worst, 4),
        "kg_allocated": round(kg_allocated, 3),
        "kg_supply": round(sum(lot.quantity_kg for lot in problem.lots), 3),
        "kg_need": round(float(built.needs.sum()), 3),
        "households": len(problem.households),
        "households_served": int(served.sum()),
        "households_empty": int(sum(1 for b in baskets if not b.items)),
        "classes": len(built.classes),
        "lp_variables": solution.lp_variables,
        "points_pooled": int(built.pooled),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return AllocationResult(
        status=solution.status,
        baskets=baskets,
        unallocated=unallocated,
        binding=solution.binding,
        bound_min_coverage=solution.worst,
        metrics=metrics,
    )


# Below the LP's worst coverage by more than this after the split, the other LP answer is
# split too and the better kept.
SPLIT_TOLERANCE = 0.005


def _worst(built: Any, baskets: tuple[Basket, ...]) -> float:
    served = built.served & (built.needs > 0)
    if not served.any():
        return 0.0
    return float(np.array([b.coverage for b in baskets])[served].min())


def run_scenario(data: Any, *, time_limit: float, seed: int) -> dict[str, Any]:
    """Validate a parsed scenario, solve it and return the output JSON of the contract.

    Parameters
    ----------
    data
        Parsed JSON: ``policy``, ``points``, ``lots``, ``households``.
    time_limit
        Seconds for the LP stages.
    seed
        Random seed of the LP solver.

    Returns
    -------
    dict
        ``status``, ``baskets``, ``unallocated``, ``binding``, ``metrics``.

    Raises
    ------
    baskets.scenario.ScenarioError
        When the scenario is malformed (the message gives the path and the reason).
    """
    problem = parse_problem(data)
    return result_to_dict(solve_allocation(problem, time_limit=time_limit, seed=seed))
