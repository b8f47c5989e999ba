"""Jobs throughput: generated multi-territory weeks solved by 1, 2 and 4 worker processes.

Creates a private PostgreSQL database and starts its own redis-server on a free port, loads
`--weeks` generated weeks of a programme spanning `--territories` territories, then for each
worker count starts one real `baskets worker --concurrency N` and submits one allocation job
per week (each splits into one part per territory). Prints jobs/min, parts/min and
households/s, then drops the database and stops Redis.

    .venv/bin/python benchmarks/jobs.py [--weeks 6] [--territories 4] [--households 2000]
        [--lots 12] [--points 3] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baskets.allocation import service as allocation  # noqa: E402
from baskets.config import Settings  # noqa: E402
from baskets.db import make_engine, make_session_factory  # noqa: E402
from baskets.jobs.models import TERMINAL, Job, JobStatus  # noqa: E402
from baskets.migrate import upgrade  # noqa: E402
from tests.jobs.conftest import actor_of, job_session, settings_env  # noqa: E402
from tests.jobs.scenario import make_programme  # noqa: E402

PG_ADMIN = os.environ.get(
    "BASKETS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BASKETS = str(Path(sys.executable).with_name("baskets"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(settings: Settings, factory, weeks: list[uuid.UUID], coordinator: uuid.UUID,  # type: ignore[no-untyped-def]
        processes: int) -> tuple[float, int, int]:
    """Seconds to end every job with `processes` worker processes; jobs and parts done."""
    worker = subprocess.Popen(
        [BASKETS, "worker", "--concurrency", str(processes), "--loglevel", "WARNING"],
        cwd=ROOT, env=settings_env(settings), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(4)  # let the worker connect before the clock starts
        started = time.perf_counter()
        with job_session(factory, settings) as session:
            actor = actor_of(session, coordinator)
            ids = [allocation.start_allocation(session, actor=actor, week_id=week,
                                               time_limit=60, seed=1).id for week in weeks]
            session.commit()
        while True:
            with factory() as session:
                statuses = list(session.scalars(select(Job.status).where(Job.id.in_(ids))))
            if all(status in TERMINAL for status in statuses):
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        with factory() as session:
            ok = session.scalar(select(func.count()).select_from(Job).where(
                Job.id.in_(ids), Job.status == JobStatus.succeeded)) or 0
            parts = session.scalar(select(func.count()).select_from(Job).where(
                Job.parent_id.in_(ids), Job.status == JobStatus.succeeded)) or 0
            # The serial step: from the last part's answer to the stored allocation.
            merges = []
            for parent in session.scalars(select(Job).where(Job.id.in_(ids))):
                last = session.scalar(select(func.max(Job.finished_at))
                                      .where(Job.parent_id == parent.id))
                part_seconds = session.scalars(select(Job.result).where(
                    Job.parent_id == parent.id)).all()
                solve = max(float((r or {}).get("wall_seconds", 0.0)) for r in part_seconds)
                if parent.finished_at and last:
                    merges.append(((parent.finished_at - last).total_seconds(), solve))
        if merges:
            solve = sum(m[1] for m in merges) / len(merges)
            merge = sum(m[0] for m in merges) / len(merges)
            print(f"    mean per job: largest part's solve {solve:.2f} s; "
                  f"merge and store (serial) {merge:.2f} s")
        return elapsed, ok, parts
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--territories", type=int, default=4)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--lots", type=int, default=12)
    parser.add_argument("--points", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    name = f"baskets_jobs_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    port = free_port()
    redis_dir = tempfile.mkdtemp()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", redis_dir],
                             stdout=subprocess.DEVNULL, start_new_session=True)
    engine = None
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        settings = Settings(database_url=url, broker_url=f"redis://127.0.0.1:{port}/0",
                            secret_key="bench-secret-key-0123456789abcdef",
                            jobs_queue="bench", jobs_lease_grace_seconds=30.0)
        with factory() as session:
            programme = make_programme(session, territories=args.territories,
                                       households=args.households, lots=args.lots,
                                       weeks=args.weeks, points=args.points)
        print(f"{args.weeks} weeks x {args.households} households over {args.territories} "
              f"territories ({args.territories * args.points} neighbourhoods), {args.lots} lots;"
              f" {os.cpu_count()} CPU(s) on this machine")
        print("worker processes | seconds | jobs/min | territory parts/min | households/s")
        for processes in (int(n) for n in args.workers.split(",")):
            elapsed, ok, parts = run(settings, factory, programme.weeks,
                                     programme.coordinator_id, processes)
            print(f"{processes:>16} | {elapsed:7.1f} | {60 * ok / elapsed:8.1f} | "
                  f"{60 * parts / elapsed:19.1f} | {ok * args.households / elapsed:12.0f}"
                  + ("" if ok == args.weeks else f"  ({args.weeks - ok} jobs not succeeded)"))
    finally:
        if engine is not None:
            engine.dispose()
        redis.kill()
        redis.wait()
        shutil.rmtree(redis_dir, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
