"""Round jobs: plan the week's rounds, re-plan without a vehicle, assign drivers.

The request checks what it can at once (role, week, plan, pins: 4xx with nothing queued); the
job re-reads everything in its own session, solves outside any transaction, checks the week
is still open, and stores the plan with the job's final status in one transaction.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.orm import Session

from baskets.common.scope import Actor
from baskets.jobs import service as jobs
from baskets.jobs.models import Job
from baskets.jobs.registry import Progress, register
from baskets.jobs.runner import solver_time_limit
from baskets.rounds import service
from baskets.rounds.models import RoundPlan

PLAN, REPLAN, DRIVERS = "rounds", "rounds.replan", "rounds.drivers"


def start_planning(session: Session, *, actor: Actor, week_id: uuid.UUID, time_limit: float,
                   seed: int) -> Job:
    """Check the week and its allocation now (403/404/409/422 at once), then submit the
    planning job."""
    week = service.plannable_week(session, actor=actor, week_id=week_id)
    service.ensure_nothing_driven(session, week)
    service.week_allocation(session, week)
    return jobs.submit(session, actor, PLAN,
                       {"week_id": str(week.id), "time_limit": time_limit, "seed": seed})


def start_replan(session: Session, *, actor: Actor, week_id: uuid.UUID, vehicle_ref: str,
                 time_limit: float, seed: int) -> Job:
    """Check the plan and the vehicle now, then submit the re-planning job."""
    week, _plan = service.replannable(session, actor=actor, week_id=week_id,
                                      vehicle_ref=vehicle_ref)
    return jobs.submit(session, actor, REPLAN, {"week_id": str(week.id), "vehicle": vehicle_ref,
                                                "time_limit": time_limit, "seed": seed})


def start_drivers(session: Session, *, actor: Actor, week_id: uuid.UUID,
                  pins: list[tuple[uuid.UUID, uuid.UUID]],
                  excludes: list[tuple[uuid.UUID, uuid.UUID]], time_limit: float,
                  seed: int) -> Job:
    """Check the rounds and the pinned ones now, then submit the driver assignment job."""
    week, _rounds = service.staffable_rounds(session, actor=actor, week_id=week_id,
                                             round_ids=[r for r, _v in [*pins, *excludes]])
    return jobs.submit(session, actor, DRIVERS, {
        "week_id": str(week.id), "time_limit": time_limit, "seed": seed,
        "pins": [[str(r), str(v)] for r, v in pins],
        "excludes": [[str(r), str(v)] for r, v in excludes]})


def _summary(plan: RoundPlan) -> dict[str, Any]:
    return {"plan_id": str(plan.id), "week_id": str(plan.week_id),
            "solver_status": plan.solver_status, "metrics": plan.metrics,
            "wall_seconds": plan.wall_seconds, "url": f"/api/v1/weeks/{plan.week_id}/rounds"}


@register(PLAN)
def plan_rounds(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Plan and store the week's rounds from its allocation."""
    progress(5, "Lecture de l'allocation, des points et des véhicules")
    actor = jobs.job_actor(session, job)
    week_id = uuid.UUID(job.params["week_id"])
    options = service.PlanningOptions.from_settings(jobs.job_settings(session))
    week = service.plannable_week(session, actor=actor, week_id=week_id)
    data = service.build_week_problem(session, week, options)
    # End the read transaction before the solve: the database must not stay locked meanwhile.
    session.commit()
    limit = solver_time_limit(session, float(job.params["time_limit"]))
    days = max(1, len(data["days"]))

    def on_day(index: int, day: str, stops: int) -> None:
        progress(10 + (80 * index) // days, f"Tournées du {day} : {stops} étapes")

    started = time.perf_counter()
    results = service.solve_days(data, time_limit=limit, seed=int(job.params["seed"]),
                                 on_day=on_day)
    wall = time.perf_counter() - started
    progress(92, "Enregistrement des tournées")
    actor = jobs.job_actor(session, job)
    week = service.plannable_week(session, actor=actor, week_id=week_id)  # published meanwhile?
    plan = service.store_plan(session, actor=actor, week=week, data=data, results=results,
                              time_limit=limit, seed=int(job.params["seed"]), wall=wall,
                              options=options)
    plan.job_id = job.id  # unique: two runs of one job cannot both store a plan
    session.flush()
    return _summary(plan)


@register(REPLAN)
def replan(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Re-plan the week without one vehicle; the other rounds keep their stops and order."""
    progress(10, f"Re-planification sans le véhicule {job.params['vehicle']}")
    actor = jobs.job_actor(session, job)
    plan = service.replan_without_vehicle(
        session, actor=actor, week_id=uuid.UUID(job.params["week_id"]),
        vehicle_ref=str(job.params["vehicle"]),
        time_limit=solver_time_limit(session, float(job.params["time_limit"])),
        seed=int(job.params["seed"]),
        options=service.PlanningOptions.from_settings(jobs.job_settings(session)))
    plan.job_id = job.id
    session.flush()
    return {**_summary(plan), "vehicle": job.params["vehicle"]}


@register(DRIVERS)
def assign_drivers(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Assign volunteers to the rounds still without driver; the result holds every reason."""
    progress(10, "Affectation des chauffeurs")
    actor = jobs.job_actor(session, job)
    week_id = uuid.UUID(job.params["week_id"])
    result = service.assign_week_drivers(
        session, actor=actor, week_id=week_id,
        pins=[(uuid.UUID(r), uuid.UUID(v)) for r, v in job.params["pins"]],
        excludes=[(uuid.UUID(r), uuid.UUID(v)) for r, v in job.params["excludes"]],
        time_limit=solver_time_limit(session, float(job.params["time_limit"])),
        seed=int(job.params["seed"]),
        options=service.PlanningOptions.from_settings(jobs.job_settings(session)))
    return {**result, "week_id": str(week_id), "url": f"/api/v1/weeks/{week_id}/rounds"}
