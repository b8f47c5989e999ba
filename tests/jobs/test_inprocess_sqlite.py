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
    settings = Settings(database_url=url, secret_key="embedded-secret-key-0123456789",
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
