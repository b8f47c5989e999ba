"""`baskets jobs reconcile`, `baskets jobs check` and `baskets worker` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from baskets.db import make_engine, make_session_factory, utcnow
from baskets.jobs.models import Job, JobStatus
from baskets.migrate import upgrade
from tests.jobs.scenario import make_programme


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BASKETS_")}
    return subprocess.run([sys.executable, "-m", "baskets.cli", *args], capture_output=True,
                          text=True, env={**clean, **env}, timeout=120, check=False)


def test_reconcile_runs_a_lost_job_and_check_counts_it(tmp_path: Path) -> None:
    """Without a broker, `jobs reconcile` re-runs a job whose lease expired in-process before
    exiting; `jobs check` then counts it succeeded."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        programme = make_programme(session, households=8, lots=3)
        job = Job(kind="allocation", organisation_id=programme.team_id,
                  requested_by=programme.coordinator_id, status=JobStatus.running, attempts=1,
                  lease_until=utcnow() - timedelta(minutes=1),
                  params={"week_id": str(programme.weeks[0]), "time_limit": 5, "seed": 1})
        session.add(job)
        session.commit()
    engine.dispose()
    env = {"BASKETS_DATABASE_URL": url}
    reconciled = run("jobs", "reconcile", env=env)
    assert reconciled.returncode == 0, reconciled.stderr
    assert reconciled.stdout.startswith("1 tâche(s) relancée(s)")
    checked = run("jobs", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {"succeeded": 1}


def test_worker_needs_a_broker(tmp_path: Path) -> None:
    """`baskets worker` without BASKETS_BROKER_URL says so and exits 2."""
    result = run("worker", env={"BASKETS_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"})
    assert result.returncode == 2
    assert "BASKETS_BROKER_URL" in result.stderr
