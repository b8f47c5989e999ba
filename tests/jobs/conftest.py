"""The real thing for the jobs tests: a private PostgreSQL database, Redis, Celery workers.

The worker is another process, so these tests commit: they run on a private database
(`baskets_jobs_<random>`, dropped afterwards) on the local PostgreSQL, a dedicated Redis
database number and queue name per run, and their own `redis-server` where Redis is
restarted. Under CI=true an unreachable server fails the run; elsewhere the tests skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from baskets.accounts.models import Organisation, User
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.db import make_engine, make_session_factory
from baskets.jobs.executor import make_executor
from baskets.jobs.models import TERMINAL, Job
from baskets.jobs.runner import EXECUTOR_KEY, SETTINGS_KEY
from baskets.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, unreachable

REDIS_HOST = os.environ.get("BASKETS_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("BASKETS_TEST_REDIS_PORT", "6379"))
ROOT = Path(__file__).resolve().parents[2]
BASKETS = str(Path(sys.executable).with_name("baskets"))
RUN = uuid.uuid4().hex[:8]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis, on a database number of its own for this run."""
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).ping()
    except Exception as exc:  # any failure means Redis is not there
        unreachable("Redis", f"{REDIS_HOST}:{REDIS_PORT}: {type(exc).__name__}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{1 + int(RUN, 16) % 15}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A private PostgreSQL database the workers share with the test, dropped afterwards."""
    name = f"baskets_jobs_{RUN}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means the server is not there
        unreachable("PostgreSQL", f"{PG_ADMIN_URL}: {type(exc).__name__}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def job_settings(database_url: str, broker_url: str | None, **overrides: Any) -> Settings:
    """Short limits so the tests stay fast; a queue name of this run."""
    values: dict[str, Any] = {
        "database_url": database_url, "broker_url": broker_url,
        "secret_key": "jobs-test-secret-key-0123456789-abcdef", "jobs_queue": f"baskets_test_{RUN}",
        "jobs_soft_time_limit_seconds": 20.0, "jobs_hard_time_limit_seconds": 30.0,
        "jobs_visibility_timeout_seconds": 40, "jobs_lease_grace_seconds": 1.0,
        "jobs_max_attempts": 3, "jobs_inprocess_workers": 2,
        # The shared database holds other tests' expired jobs: only the test of the
        # embedded reconciler turns it on.
        "jobs_inprocess_reconcile": False,
    }
    values.update(overrides)
    return Settings(**values)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a subprocess the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASKETS_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"BASKETS_{name.upper()}"] = str(value)
    return env


class Worker:
    """A real `baskets worker` (Celery, prefork) subprocess in its own process group."""

    def __init__(self, settings: Settings, concurrency: int = 1, log: Path | None = None) -> None:
        self.settings, self.concurrency = settings, concurrency
        self.log = log or Path(os.devnull)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [BASKETS, "worker", "--concurrency", str(self.concurrency), "--loglevel", "INFO"],
            cwd=ROOT, env=settings_env(self.settings), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a crash, not a shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers (logs in the test's tmp_path); every one is stopped after the test."""
    started: list[Worker] = []

    def start(settings: Settings, concurrency: int = 1) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = Worker(settings, concurrency, log=log).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


class RedisServer:
    """A `redis-server` of our own on a free port, without persistence: a restart loses
    every queued message, like a crashed Redis without AOF."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp = free_port(), tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        unreachable("redis-server", "binary not found")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def actor_of(session: Session, user_id: uuid.UUID) -> Actor:
    user = session.get(User, user_id)
    assert user is not None
    organisation = session.get(Organisation, user.organisation_id)
    assert organisation is not None
    return Actor(user=user, organisation=organisation)


def job_session(factory: sessionmaker[Session], settings: Settings) -> Session:
    """A session whose submitted jobs go to the executor `settings` asks for."""
    session = factory()
    session.info[EXECUTOR_KEY] = make_executor(settings, factory)
    session.info[SETTINGS_KEY] = settings
    return session


def wait_for(factory: sessionmaker[Session], job_ids: list[uuid.UUID], *, timeout: float,
             tick: Callable[[], object] | None = None) -> list[Job]:
    """Poll the database until every job is terminal (calling `tick` between looks)."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            jobs = list(session.scalars(select(Job).where(Job.id.in_(job_ids))))
        if len(jobs) == len(job_ids) and all(job.status in TERMINAL for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            states = sorted((job.status.value, job.attempts) for job in jobs)
            raise AssertionError(f"jobs not terminal after {timeout}s: {states}")
        if tick is not None:
            tick()
        time.sleep(0.2)
