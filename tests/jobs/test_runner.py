"""The runner's guarantees on both databases (jobs run inline on the test's connection):
one store per job, cancellation, the attempt cap, the reconciler; and the territory split."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from baskets.allocation import service as allocation
from baskets.allocation.models import Allocation
from baskets.config import Settings
from baskets.db import utcnow
from baskets.errors import Conflict
from baskets.jobs import service as jobs
from baskets.jobs.executor import InProcessExecutor
from baskets.jobs.models import Job, JobStatus
from baskets.jobs.registry import Cancelled
from baskets.jobs.runner import JobProgress, claim, run_job
from baskets.optimizer import allocation as solver
from baskets.optimizer.allocation.parts import merge_results, split_problem
from baskets.weeks.models import Week
from tests.jobs.conftest import actor_of
from tests.jobs.scenario import Programme, make_programme


@pytest.fixture
def programme(session: Session) -> Programme:
    return make_programme(session, territories=2, households=12, lots=4)


def _job(session: Session, programme: Programme, **values: object) -> Job:
    """A job row written directly (so nothing enqueues it)."""
    job = Job(kind="allocation", organisation_id=programme.team_id,
              requested_by=programme.coordinator_id,
              params={"week_id": str(programme.weeks[0]), "time_limit": 5, "seed": 1},
              **values)
    session.add(job)
    session.commit()
    return job


def _allocations(session: Session, week: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(Allocation)
                          .where(Allocation.week_id == week)) or 0


def test_a_second_run_of_the_same_job_stores_nothing(
    session: Session, session_factory: sessionmaker[Session], settings: Settings,
    programme: Programme,
) -> None:
    """Submitted, the job runs after the commit (in 2 territory parts); running it again,
    as a redelivered message would, finds it finished and stores no second allocation."""
    job = allocation.start_allocation(session, actor=actor_of(session, programme.coordinator_id),
                                      week_id=programme.weeks[0], time_limit=5, seed=1)
    assert _allocations(session, programme.weeks[0]) == 0  # nothing before the commit
    session.commit()
    session.refresh(job)
    assert job.status is JobStatus.succeeded, job.error
    executor = InProcessExecutor(session_factory, settings)
    assert run_job(session_factory, job.id, settings=settings, executor=executor) is None
    for part in session.scalars(select(Job).where(Job.parent_id == job.id)):
        assert run_job(session_factory, part.id, settings=settings, executor=executor) is None
    assert _allocations(session, programme.weeks[0]) == 1
    stored = session.scalar(select(Allocation).where(Allocation.week_id == programme.weeks[0]))
    assert stored is not None
    assert stored.job_id == job.id


def test_a_cancelled_job_never_runs(session: Session, session_factory: sessionmaker[Session],
                                    settings: Settings, programme: Programme) -> None:
    """Cancelled while queued, the job is skipped by the runner; cancelling again is 409."""
    job = _job(session, programme)
    actor = actor_of(session, programme.coordinator_id)
    assert jobs.cancel_job(session, actor=actor, job_id=job.id).status is JobStatus.cancelled
    session.commit()
    executor = InProcessExecutor(session_factory, settings)
    assert run_job(session_factory, job.id, settings=settings, executor=executor) is None
    assert _allocations(session, programme.weeks[0]) == 0
    with pytest.raises(Conflict):
        jobs.cancel_job(session, actor=actor, job_id=job.id)


def test_progress_raises_once_the_job_is_cancelled(
    session: Session, session_factory: sessionmaker[Session], settings: Settings,
    programme: Programme,
) -> None:
    """Progress writes percent and message while running, and raises Cancelled after a cancel."""
    job = _job(session, programme)
    attempt = claim(session_factory, job.id, settings)
    assert attempt == 1
    progress = JobProgress(session_factory, job.id, attempt, settings)
    progress(40, "Calcul en cours")
    session.refresh(job)
    assert (job.progress, job.message) == (40, "Calcul en cours")
    jobs.cancel_job(session, actor=actor_of(session, programme.coordinator_id), job_id=job.id)
    session.commit()
    with pytest.raises(Cancelled):
        progress(60, "Encore")


def test_attempt_cap_marks_the_job_failed(
    session: Session, session_factory: sessionmaker[Session], settings: Settings,
    programme: Programme,
) -> None:
    """A job whose lease expired after its last allowed attempt ends failed, not redelivered."""
    job = _job(session, programme, status=JobStatus.running,
               attempts=settings.jobs_max_attempts, lease_until=utcnow() - timedelta(seconds=1))
    assert claim(session_factory, job.id, settings) is None
    session.refresh(job)
    assert job.status is JobStatus.failed
    assert job.error is not None
    assert "tentatives" in job.error


def test_reconciler_reenqueues_expired_jobs_only(
    session: Session, session_factory: sessionmaker[Session], settings: Settings,
    programme: Programme,
) -> None:
    """A running job with an expired lease (dead worker) is requeued and runs to the end;
    a queued job within its lease is left alone."""
    lost = _job(session, programme, status=JobStatus.running, attempts=1,
                lease_until=utcnow() - timedelta(seconds=5))
    fresh = _job(session, programme, lease_until=utcnow() + timedelta(hours=1))
    executor = InProcessExecutor(session_factory, settings)
    assert jobs.reconcile(session_factory, executor, settings) == [lost.id]
    session.refresh(lost)
    session.refresh(fresh)
    assert lost.status is JobStatus.succeeded, lost.error
    assert lost.attempts == 2
    assert fresh.status is JobStatus.queued


def test_split_shares_every_lot_and_merge_keeps_it(session: Session,
                                                   programme: Programme) -> None:
    """Each territory gets a share of each lot (whole pieces for piece lots) that sums to the
    lot; the merged answer has one basket per household and never exceeds a lot."""
    week = session.get(Week, programme.weeks[0])
    assert week is not None
    problem = allocation.build_problem(session, week)
    parts = split_problem(problem, allocation.household_territories(session, problem))
    assert len(parts) == 2
    for lot in problem.lots:
        shares = [p_lot for part in parts.values() for p_lot in part.lots if p_lot.id == lot.id]
        assert sum(s.quantity_kg for s in shares) == pytest.approx(lot.quantity_kg)
        if lot.unit_kg:
            for share in shares:
                pieces = share.quantity_kg / lot.unit_kg
                assert pieces == pytest.approx(round(pieces))
    merged = merge_results(problem, [solver.solve_allocation(part, time_limit=5, seed=1)
                                     for part in parts.values()])
    assert [b.household for b in merged.baskets] == [h.id for h in problem.households]
    given: dict[str, float] = {}
    for basket in merged.baskets:
        for item in basket.items:
            given[item.lot] = given.get(item.lot, 0.0) + item.kg
    for lot in problem.lots:
        assert given.get(lot.id, 0.0) <= lot.quantity_kg + 1e-6
    assert merged.metrics["parts"] == 2
