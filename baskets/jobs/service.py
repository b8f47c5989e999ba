"""Submit, read, list and cancel jobs; re-enqueue the ones whose lease expired."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_owned, owned
from baskets.config import Settings
from baskets.db import utcnow
from baskets.errors import Conflict, Forbidden
from baskets.jobs.executor import Executor, enqueue_after_commit
from baskets.jobs.models import TERMINAL, Job, JobStatus
from baskets.jobs.registry import get_task
from baskets.jobs.runner import MESSAGES, lease

JOB = ("Tâche", "Job")


def submit(session: Session, actor: Actor, kind: str, params: dict[str, Any]) -> Job:
    """Record a job for the actor's organisation; it is enqueued once the transaction commits.

    The same request made again while its job is queued or running (a double click, two
    coordinators at once) gets that job back instead of queuing a second identical solve.
    """
    get_task(kind)  # an unknown kind fails here, not in a worker
    same = active_twin(session, actor, kind, params)
    if same is not None:
        return same
    job = Job(kind=kind, params=params, organisation_id=actor.organisation_id,
              requested_by=actor.user.id, status=JobStatus.queued,
              message=MESSAGES[JobStatus.queued], lease_until=utcnow() + _queued_grace(session))
    session.add(job)
    session.flush()
    enqueue_after_commit(session, job.id)
    return job


def active_twin(session: Session, actor: Actor, kind: str,
                params: dict[str, Any]) -> Job | None:
    """The organisation's queued or running job of this kind with these very parameters.

    The organisation's row is locked first (SQLite: the write lock), so two identical
    submissions at once are serialised and the second one finds the first.
    """
    from baskets.accounts.models import Organisation

    session.execute(select(Organisation.id).where(Organisation.id == actor.organisation_id)
                    .with_for_update())
    candidates = session.scalars(
        owned(Job, actor).where(Job.kind == kind, Job.parent_id.is_(None),
                                Job.status.in_([JobStatus.queued, JobStatus.running]))
        .order_by(Job.created_at))
    wanted = json.loads(json.dumps(params, default=str))
    return next((job for job in candidates if job.params == wanted), None)


def submit_part(session: Session, parent: Job, kind: str, params: dict[str, Any]) -> Job:
    """A part of `parent` (one territory of a split solve), enqueued after the commit."""
    get_task(kind)
    job = Job(kind=kind, params=params, organisation_id=parent.organisation_id,
              requested_by=parent.requested_by, parent_id=parent.id, status=JobStatus.queued,
              message=MESSAGES[JobStatus.queued], lease_until=utcnow() + _queued_grace(session))
    session.add(job)
    session.flush()
    enqueue_after_commit(session, job.id)
    return job


def job_actor(session: Session, job: Job) -> Actor:
    """The person who asked for `job`, as services receive them (their role checked again:
    someone whose account was disabled or demoted meanwhile cannot have it run)."""
    from baskets.accounts.models import Organisation, User

    user = session.get(User, job.requested_by) if job.requested_by else None
    organisation = session.get(Organisation, job.organisation_id)
    if user is None or organisation is None or user.organisation_id != organisation.id \
            or not user.is_active:
        raise Forbidden()
    return Actor(user=user, organisation=organisation)


def job_settings(session: Session) -> Settings:
    """The settings the job runs with (the runner's, else the process's)."""
    from baskets.config import get_settings
    from baskets.jobs.runner import SETTINGS_KEY

    settings: Settings | None = session.info.get(SETTINGS_KEY)
    return settings or get_settings()


def _queued_grace(session: Session) -> timedelta:
    return timedelta(seconds=job_settings(session).jobs_lease_grace_seconds)


def jobs_query(actor: Actor, *, status: JobStatus | None = None,
               kind: str | None = None) -> Select[Job]:
    """The organisation's jobs (not their parts), newest first: coordinators only (volunteers
    belong to the team's organisation but never see its jobs, their results or who asked)."""
    actor.require(Role.coordinator)
    query = owned(Job, actor).where(Job.parent_id.is_(None))
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return query.order_by(Job.created_at.desc(), Job.id)


def get_job(session: Session, *, actor: Actor, job_id: uuid.UUID) -> Job:
    """One of the organisation's jobs (coordinators only, 403 otherwise), else 404."""
    actor.require(Role.coordinator)
    return get_owned(session, Job, job_id, actor, JOB)


def cancel_job(session: Session, *, actor: Actor, job_id: uuid.UUID) -> Job:
    """Cancel a queued or running job (and its parts); a finished one answers 409."""
    job = get_job(session, actor=actor, job_id=job_id)
    if job.status in TERMINAL:
        raise Conflict("Cette tâche est déjà terminée.", "This job has already ended.")
    now = utcnow()
    session.execute(
        update(Job)
        .where(or_(Job.id == job.id, Job.parent_id == job.id))
        .where(Job.status.in_([JobStatus.queued, JobStatus.running]))
        .values(status=JobStatus.cancelled, finished_at=now, updated_at=now, lease_until=None,
                message=MESSAGES[JobStatus.cancelled])
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    return job


def job_out(job: Job) -> dict[str, Any]:
    """The job as the API and the pages show it."""
    return {
        "id": job.id, "kind": job.kind, "params": job.params, "status": job.status,
        "progress": job.progress, "message": job.message, "attempts": job.attempts,
        "result": job.result, "error": job.error, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "requested_by": job.requested_by, "url": f"/api/v1/jobs/{job.id}",
    }


def reconcile(factory: sessionmaker[Session], executor: Executor,
              settings: Settings) -> list[uuid.UUID]:
    """Re-enqueue queued or running jobs whose lease expired (lost message, dead worker).

    A running job whose lease expired goes back to queued (its attempts are kept, so the cap
    still applies); the claim's compare-and-set makes a duplicate message harmless.
    """
    now = utcnow()
    grace = timedelta(seconds=settings.jobs_lease_grace_seconds)
    with factory() as session:
        expired = list(session.scalars(
            select(Job)
            .where(Job.status.in_([JobStatus.queued, JobStatus.running]))
            .where(or_(Job.lease_until.is_(None), Job.lease_until < now))
            .order_by(Job.created_at)
            .with_for_update(skip_locked=True)
        ))
        for job in expired:
            # A parent waiting on its parts is re-run too: it finishes if they all ended.
            job.status = JobStatus.queued
            job.lease_until = now + grace
            job.message = "Relancé après expiration du bail"
            job.updated_at = now
        ids = [job.id for job in expired]
        session.commit()
    if ids:
        executor.enqueue(ids)
    return ids


__all__ = ["cancel_job", "get_job", "job_out", "jobs_query", "lease", "reconcile", "submit",
           "submit_part"]
