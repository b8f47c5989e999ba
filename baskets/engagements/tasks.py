"""The matching run as a job: the request checks the role and that there is something to
match (4xx at once, nothing queued); the job solves and stores the run and its proposals with
its final status, in one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from baskets.common.scope import Actor
from baskets.engagements import service
from baskets.jobs import service as jobs
from baskets.jobs.models import Job
from baskets.jobs.registry import Progress, register
from baskets.jobs.runner import solver_time_limit

MATCHING = "engagements.matching"


def start_matching(session: Session, *, actor: Actor, time_limit: float, seed: int,
                   today: date | None = None) -> Job:
    """Check now (403, 422 when no project is open), then submit the matching job. The day
    the windows count from is the request's, so a job run later solves the same problem."""
    today = today or date.today()
    service.check_matchable(session, actor=actor, today=today)
    return jobs.submit(session, actor, MATCHING, {"time_limit": time_limit, "seed": seed,
                                                  "today": today.isoformat()})


@register(MATCHING)
def run_matching(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Match the territory's projects with sponsored hours and volunteers; store the run."""
    progress(10, "Appariement des projets, des offres et des bénévoles")
    run = service.run_matching(
        session, actor=jobs.job_actor(session, job),
        time_limit=solver_time_limit(session, float(job.params["time_limit"])),
        seed=int(job.params["seed"]), today=date.fromisoformat(job.params["today"]))
    run.job_id = job.id  # unique: two runs of one job cannot both store a run
    session.flush()
    return {"run_id": str(run.id), "summary": service.summary_fr(run),
            "assignments": len(run.assignments), "hours_covered": run.hours_covered,
            "hours_needed": run.hours_needed, "worst_share": run.worst_share,
            "url": f"/api/v1/matching/runs/{run.id}"}
