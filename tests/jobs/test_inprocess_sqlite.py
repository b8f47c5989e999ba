"""The embedded default: no broker, SQLite file, jobs on the app's thread pool."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from baskets.accounts.security import issue_token
from baskets.api.app import create_app
from baskets.config import Settings
from baskets.db import make_engine, make_session_factory
from baskets.migrate import upgrade
from tests.jobs.scenario import make_programme


def test_thread_pool_runs_a_split_week_on_sqlite(tmp_path: Path) -> None:
    """A 3-territory week allocated through the API on the embedded SQLite database: the job
    and its parts run on worker threads (each with its own sessions) and the job succeeds."""
    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        programme = make_programme(session, territories=3, households=30, lots=5)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="embedded-secret-key-0123456789-abcdef",
                        jobs_inprocess_workers=2)
    app = create_app(settings)
    headers = {"Authorization": "Bearer " + issue_token(
        programme.coordinator_id, secret=settings.secret_key, ttl_minutes=10)}
    with TestClient(app) as client:
        response = client.post(f"/api/v1/weeks/{programme.weeks[0]}/allocation",
                               json={"time_limit": 5}, headers=headers)
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while True:
            job = client.get(response.json()["url"], headers=headers).json()
            if job["status"] not in ("queued", "running"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
        assert job["result"]["parts"] == 3
        stored = client.get(f"/api/v1/weeks/{programme.weeks[0]}/allocation", headers=headers)
        assert stored.json()["id"] == job["result"]["allocation_id"]
    app.state.job_executor.shutdown(wait=True)


def test_the_embedded_app_takes_back_a_job_left_running(tmp_path: Path) -> None:
    """A job the app was running when it stopped (status running, lease expired) is taken
    back by the next app's own reconciler at start and succeeds, once; with the reconciler
    turned off it stays where it was."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from baskets.allocation.models import Allocation
    from baskets.db import utcnow
    from baskets.jobs.models import Job, JobStatus

    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        programme = make_programme(session, households=20, lots=4)
        job = Job(kind="allocation", organisation_id=programme.team_id,
                  requested_by=programme.coordinator_id, status=JobStatus.running, attempts=1,
                  params={"week_id": str(programme.weeks[0]), "time_limit": 5, "seed": 1},
                  message="En cours", lease_until=utcnow() - timedelta(minutes=5))
        session.add(job)
        session.commit()
        job_id = job.id

    def status() -> JobStatus:
        with factory() as session:
            found = session.get(Job, job_id)
            assert found is not None
            return found.status

    base = {"database_url": url, "secret_key": "embedded-secret-key-0123456789-abcdef",
            "jobs_inprocess_workers": 1, "jobs_reconcile_every_seconds": 0.5}
    off = create_app(Settings(**base, jobs_inprocess_reconcile=False))
    with TestClient(off):
        time.sleep(1.5)
    assert status() is JobStatus.running
    app = create_app(Settings(**base))
    with TestClient(app):
        deadline = time.monotonic() + 60
        while status() in (JobStatus.queued, JobStatus.running):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    app.state.job_executor.shutdown(wait=True)
    assert status() is JobStatus.succeeded
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Allocation).where(
            Allocation.week_id == programme.weeks[0])) == 1
        assert session.get(Job, job_id).attempts == 2  # type: ignore[union-attr]
    engine.dispose()
