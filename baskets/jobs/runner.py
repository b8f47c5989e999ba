"""Run one job: claim it (lease, attempts), run its task, store result and status at once.

The final write is a compare-and-set on (job id, status running, attempt number) in the same
transaction as the task's records, so a second delivery of the same job, or a run whose lease
was taken over, cannot store anything twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from baskets.config import Settings
from baskets.db import utcnow
from baskets.jobs.models import TERMINAL, Job, JobStatus
from baskets.jobs.registry import TIMED_OUT, Cancelled, Deferred, describe, get_task

log = logging.getLogger(__name__)

EXECUTOR_KEY = "baskets.jobs.executor"
TIME_CAP_KEY = "baskets.jobs.time_cap"
SETTINGS_KEY = "baskets.jobs.settings"


def lease(settings: Settings) -> timedelta:
    """How long a claimed job is held without news before the reconciler takes it back."""
    return timedelta(seconds=settings.jobs_hard_time_limit_seconds
                     + settings.jobs_lease_grace_seconds)


def solver_time_limit(session: Session, requested: float) -> float:
    """The solver's time limit: the requested one, kept below the job's soft time limit."""
    cap = session.info.get(TIME_CAP_KEY)
    return requested if cap is None else max(0.1, min(requested, float(cap)))


def time_cap(settings: Settings) -> float:
    """The solver's share of the soft time limit: half; reading the week, splitting the
    answer into baskets and storing them get the other half, so the best answer is stored
    before the soft limit strikes."""
    return max(0.1, 0.5 * settings.jobs_soft_time_limit_seconds)


class JobProgress:
    """``progress(percent, message_fr)``: own short transaction, heartbeat, cancellation."""

    def __init__(self, factory: sessionmaker[Session], job_id: uuid.UUID, attempt: int,
                 settings: Settings) -> None:
        self.factory, self.job_id, self.attempt, self.settings = factory, job_id, attempt, settings

    def __call__(self, percent: int, message_fr: str) -> None:
        now = utcnow()
        with self.factory() as session:
            changed = _rowcount(session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == JobStatus.running,
                       Job.attempts == self.attempt)
                .values(progress=max(0, min(100, int(percent))), message=message_fr[:300],
                        heartbeat_at=now, lease_until=now + lease(self.settings),
                        updated_at=now)
                .execution_options(synchronize_session=False)
            ))
            session.commit()
        if changed != 1:
            raise Cancelled()


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def claim(factory: sessionmaker[Session], job_id: uuid.UUID, settings: Settings) -> int | None:
    """Take the job for one run; its attempt number, or None when there is nothing to run."""
    with factory() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            return None
        now = utcnow()
        expired = job.lease_until is None or job.lease_until < now
        if not (job.status is JobStatus.queued
                or (job.status is JobStatus.running and expired)):
            return None  # finished, cancelled, or another worker holds it
        if job.attempts >= settings.jobs_max_attempts:
            _end(job, JobStatus.failed, None,
                 f"Abandonné après {job.attempts} tentatives (le traitement s'est interrompu).")
            _parent_after_child(session, job.parent_id)
            session.commit()
            return None
        job.status = JobStatus.running
        job.attempts += 1
        job.started_at = job.heartbeat_at = job.updated_at = now
        job.lease_until = now + lease(settings)
        job.message = "En cours"
        attempt = job.attempts
        session.commit()
        return attempt


def run_job(
    factory: sessionmaker[Session], job_id: uuid.UUID, *, settings: Settings, executor: Any,
    cap: float | None = None,
) -> JobStatus | None:
    """Claim and run the job `job_id`; the status it ended with (None if not run)."""
    attempt = claim(factory, job_id, settings)
    if attempt is None:
        return None
    progress = JobProgress(factory, job_id, attempt, settings)
    with factory() as session:
        session.info[EXECUTOR_KEY] = executor
        session.info[TIME_CAP_KEY] = cap
        session.info[SETTINGS_KEY] = settings
        job = session.get(Job, job_id)
        assert job is not None
        # End this read now: on SQLite every transaction holds the write lock, and the task's
        # first progress report (its own session) would wait for it.
        session.commit()
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            result = get_task(job.kind).run(session, job, progress)
            status = JobStatus.timed_out if result.get(TIMED_OUT) else JobStatus.succeeded
        except Deferred:
            return _wait_for_children(session, job_id, attempt, settings)
        except Cancelled:
            session.rollback()
            return None
        except BaseException as exc:  # noqa: BLE001 - every failure ends the job, except kills
            session.rollback()
            if _is_soft_time_limit(exc):
                status = JobStatus.timed_out
                error = "Limite de temps atteinte avant toute réponse."
            elif isinstance(exc, Exception):
                log.warning("job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__,
                            exc_info=log.isEnabledFor(logging.DEBUG))
                status, error = JobStatus.failed, describe(exc)
            else:
                raise
        return _finish(session, job_id, attempt, status, result, error)


def _is_soft_time_limit(exc: BaseException) -> bool:
    from celery.exceptions import SoftTimeLimitExceeded

    return isinstance(exc, SoftTimeLimitExceeded)


def _end(job: Job, status: JobStatus, result: dict[str, Any] | None, error: str | None) -> None:
    now = utcnow()
    job.status, job.result, job.error = status, result, error
    job.finished_at = job.updated_at = now
    job.lease_until = None
    if status in (JobStatus.succeeded, JobStatus.timed_out):
        job.progress = 100
    job.message = MESSAGES[status]


MESSAGES = {
    JobStatus.queued: "En attente",
    JobStatus.running: "En cours",
    JobStatus.succeeded: "Terminé",
    JobStatus.failed: "Échec",
    JobStatus.timed_out: "Limite de temps atteinte : meilleure réponse enregistrée",
    JobStatus.cancelled: "Annulé",
}


def _finish(session: Session, job_id: uuid.UUID, attempt: int, status: JobStatus,
            result: dict[str, Any] | None, error: str | None) -> JobStatus | None:
    now = utcnow()
    changed = _rowcount(session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running, Job.attempts == attempt)
        .values(status=status, result=result, error=error, finished_at=now, updated_at=now,
                lease_until=None, message=MESSAGES[status],
                **({"progress": 100} if status in (JobStatus.succeeded, JobStatus.timed_out)
                   else {}))
        .execution_options(synchronize_session=False)
    ))
    if changed != 1:
        # Cancelled meanwhile, or another run took the job over: store nothing.
        session.rollback()
        return None
    parent_id = session.scalar(select(Job.parent_id).where(Job.id == job_id))
    _parent_after_child(session, parent_id)
    session.commit()
    return status


def _wait_for_children(session: Session, job_id: uuid.UUID, attempt: int,
                       settings: Settings) -> JobStatus | None:
    """The task created its parts: keep the job running, long enough for every part."""
    parts = session.scalar(select(Job.id).where(Job.parent_id == job_id).limit(1))
    now = utcnow()
    changed = _rowcount(session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.running, Job.attempts == attempt)
        .values(lease_until=now + 4 * lease(settings), heartbeat_at=now, updated_at=now,
                message="Parties du calcul en cours", progress=10)
        .execution_options(synchronize_session=False)
    ))
    if changed != 1 or parts is None:
        session.rollback()
        return None
    # A part may already be over (a re-run of the parent): finish the parent if all are.
    _parent_after_child(session, job_id)
    session.commit()
    return JobStatus.running


def _parent_after_child(session: Session, parent_id: uuid.UUID | None) -> None:
    """In a part's final transaction: report progress on the parent, or finish it."""
    if parent_id is None:
        return
    parent = session.get(Job, parent_id, with_for_update=True, populate_existing=True)
    if parent is None or parent.status in TERMINAL:
        return
    children: Sequence[Job] = session.scalars(
        select(Job).where(Job.parent_id == parent_id).order_by(Job.created_at, Job.id)
        .execution_options(populate_existing=True)
    ).all()
    done = [c for c in children if c.status in TERMINAL]
    if len(done) < len(children):
        parent.progress = 10 + int(80 * len(done) / len(children))
        parent.message = f"{len(done)} parties sur {len(children)} terminées"
        parent.updated_at = utcnow()
        return
    statuses = {c.status for c in children}
    if JobStatus.cancelled in statuses:
        _end(parent, JobStatus.cancelled, None, None)
        return
    if JobStatus.failed in statuses:
        failed = next(c for c in children if c.status is JobStatus.failed)
        _end(parent, JobStatus.failed, None, failed.error)
        return
    finish = get_task(parent.kind).finish
    assert finish is not None, f"{parent.kind} splits into parts but has no finish function"
    try:
        with session.begin_nested():
            result = finish(session, parent, children)
    except Exception as exc:  # noqa: BLE001 - the parent fails, the part's own status stays
        log.warning("job %s: merging its parts failed: %s", parent_id, type(exc).__name__)
        _end(parent, JobStatus.failed, None, describe(exc))
        return
    timed_out = JobStatus.timed_out in statuses or bool(result.get(TIMED_OUT))
    _end(parent, JobStatus.timed_out if timed_out else JobStatus.succeeded, result, None)
