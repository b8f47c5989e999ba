"""Allocation jobs: the whole week, or one territory of it when the week spans several.

A week whose households live in several territories is split into one part per territory,
each run as its own job (in parallel on the workers); the last part to end merges the answers
and stores one allocation, in its final transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.allocation import service
from baskets.allocation.models import Allocation
from baskets.errors import NotFound
from baskets.jobs import service as jobs
from baskets.jobs.models import Job
from baskets.jobs.registry import TIMED_OUT, Deferred, Progress, register
from baskets.jobs.runner import solver_time_limit
from baskets.optimizer import allocation as solver
from baskets.optimizer.allocation.parts import merge_results, result_from_dict, split_problem
from baskets.weeks.models import Week

PART = "allocation.part"


def _week(session: Session, job: Job) -> Week:
    week = session.scalar(select(Week).where(Week.id == uuid.UUID(job.params["week_id"]),
                                             Week.organisation_id == job.organisation_id))
    if week is None:
        raise NotFound(*service.WEEK)
    return week


def _timed_out(result: solver.AllocationResult, limit: float, wall: float) -> bool:
    # A stage cut short by the time limit leaves the status "feasible" (the best answer).
    return result.status != solver.STATUS_OPTIMAL and wall >= 0.9 * limit


def _summary(allocation: Allocation, timed_out: bool) -> dict[str, Any]:
    return {"allocation_id": str(allocation.id), "week_id": str(allocation.week_id),
            "solver_status": allocation.solver_status, "metrics": allocation.metrics,
            "url": f"/api/v1/weeks/{allocation.week_id}/allocation", TIMED_OUT: timed_out}


def _store(session: Session, job: Job, week: Week, problem: solver.AllocationProblem,
           result: solver.AllocationResult, *, limit: float, wall: float) -> Allocation:
    allocation = service.store_result(
        session, actor=None, week=week, problem=problem, result=result, time_limit=limit,
        seed=int(job.params["seed"]), wall_seconds=wall,
    )
    allocation.requested_by = job.requested_by
    allocation.job_id = job.id  # unique: one job never leaves two allocations
    session.flush()
    return allocation


def merge_parts(session: Session, parent: Job, parts: Sequence[Job]) -> dict[str, Any]:
    """Merge the territories' answers into the week's one allocation (the parent's result)."""
    week = _week(session, parent)
    problem = service.checked_problem(session, week)
    results = [result_from_dict(part.result or {}) for part in parts]
    merged = merge_results(problem, results)
    limit = max(float(part.params["time_limit"]) for part in parts)
    wall = max(float(part.result["wall_seconds"]) if part.result else 0.0 for part in parts)
    timed_out = any(bool((part.result or {}).get(TIMED_OUT)) for part in parts)
    allocation = _store(session, parent, week, problem, merged, limit=limit, wall=wall)
    return {**_summary(allocation, timed_out), "parts": len(parts)}


@register("allocation", finish=merge_parts)
def allocate(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Allocate the job's week and store it; split by territory when it spans several."""
    progress(5, "Lecture des lots et des foyers")
    week = _week(session, job)
    problem = service.checked_problem(session, week)
    part_of = service.household_territories(session, problem)
    territories = sorted(set(part_of.values()))
    if len(territories) > 1:
        if session.scalar(select(Job.id).where(Job.parent_id == job.id).limit(1)) is None:
            for territory in territories:
                jobs.submit_part(session, job, PART, {**job.params, "territory_id": territory})
        raise Deferred()
    # End the read transaction before the solve: the database must not stay locked meanwhile.
    session.commit()
    limit = solver_time_limit(session, float(job.params["time_limit"]))
    progress(15, f"Calcul de l'allocation de {len(problem.households)} foyers")
    started = time.perf_counter()
    result = solver.solve_allocation(problem, time_limit=limit, seed=int(job.params["seed"]))
    wall = time.perf_counter() - started
    progress(90, "Enregistrement des paniers")
    week = _week(session, job)
    service.checked_problem(session, week)  # published meanwhile: refuse, store nothing
    allocation = _store(session, job, week, problem, result, limit=limit, wall=wall)
    return _summary(allocation, _timed_out(result, limit, wall))


@register(PART)
def allocate_part(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Solve one territory's share of the week; the result is stored on the part job."""
    progress(5, "Lecture du territoire")
    week = _week(session, job)
    problem = service.checked_problem(session, week)
    part = split_problem(problem, service.household_territories(session, problem))[
        job.params["territory_id"]]
    session.commit()
    limit = solver_time_limit(session, float(job.params["time_limit"]))
    progress(20, f"Calcul pour {len(part.households)} foyers")
    started = time.perf_counter()
    result = solver.solve_allocation(part, time_limit=limit, seed=int(job.params["seed"]))
    wall = time.perf_counter() - started
    return {**solver.result_to_dict(result), "wall_seconds": round(wall, 3),
            TIMED_OUT: _timed_out(result, limit, wall)}
