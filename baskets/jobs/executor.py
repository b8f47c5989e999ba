"""Where jobs run: Celery over Redis when a broker is configured, else a thread pool.

Both run the very same `run_job`. Jobs are handed over only after the transaction that
created them commits (an `after_commit` hook), so a worker never looks for a job that is not
there yet, and a rolled-back request enqueues nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, sessionmaker

from baskets.config import Settings
from baskets.jobs.runner import EXECUTOR_KEY, run_job, time_cap

log = logging.getLogger(__name__)

PENDING_KEY = "baskets.jobs.pending"


class Executor(Protocol):
    def enqueue(self, job_ids: Sequence[uuid.UUID]) -> None: ...


class InProcessExecutor:
    """Runs jobs on a thread pool of this process (the embedded demo, tests).

    A session factory bound to one connection (the tests' rolled-back transaction) cannot be
    shared between threads: jobs then run inline, right after the commit that created them.
    """

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self.inline = isinstance(factory.kw.get("bind"), Connection)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.futures: list[Future[Any]] = []

    def _run(self, job_id: uuid.UUID) -> Any:
        try:
            return run_job(self.factory, job_id, settings=self.settings, executor=self,
                           cap=None)
        except Exception:
            log.exception("in-process job %s crashed", job_id)
            raise

    def enqueue(self, job_ids: Sequence[uuid.UUID]) -> None:
        for job_id in job_ids:
            if self.inline:
                self._run(job_id)
                continue
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self.settings.jobs_inprocess_workers,
                        thread_name_prefix="baskets-job",
                    )
                self.futures = [f for f in self.futures if not f.done()]
                self.futures.append(self._pool.submit(self._run, job_id))

    def wait(self, timeout: float | None = None) -> None:
        """Wait until every enqueued job, and the parts they enqueue, has run."""
        from concurrent.futures import wait as wait_futures

        while True:
            with self._lock:
                pending = [f for f in self.futures if not f.done()]
            if not pending:
                return
            wait_futures(pending, timeout=timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool (after the jobs and their parts end when `wait`)."""
        if wait:
            self.wait()
        with self._lock:
            pool, self._pool = self._pool, None
        # Outside the lock: a running job may still enqueue (its parts) while we wait.
        if pool is not None:
            pool.shutdown(wait=wait)


class ReconcileLoop:
    """The embedded default's reconciler: a daemon thread of the app that re-enqueues jobs
    whose lease expired (the app stopped mid-job) at start, then every `every` seconds."""

    def __init__(self, factory: sessionmaker[Session], executor: InProcessExecutor,
                 settings: Settings) -> None:
        self.factory, self.executor, self.settings = factory, executor, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="baskets-reconcile",
                                        daemon=True)

    def _run(self) -> None:
        from baskets.jobs.service import reconcile

        every = self.settings.jobs_reconcile_every_seconds
        failures = 0
        while not self._stop.is_set():
            try:
                ids = reconcile(self.factory, self.executor, self.settings)
                if ids:
                    log.info("re-enqueued %d job(s) whose lease expired", len(ids))
                failures = 0
                pause = every
            except Exception as exc:  # noqa: BLE001 - never dies of what it exists to heal
                failures += 1
                pause = min(every, 0.5 * 2 ** min(failures, 10))
                log.warning("reconcile failed (%s); retrying in %.1f s", type(exc).__name__,
                            pause)
            self._stop.wait(pause)

    def start(self) -> ReconcileLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class CeleryExecutor:
    """Sends job ids to the Celery queue; several at once go as one group."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def enqueue(self, job_ids: Sequence[uuid.UUID]) -> None:
        from celery import group

        from baskets.jobs.celery_app import RUN_TASK

        signatures = [self.app.signature(RUN_TASK, args=[str(job_id)]) for job_id in job_ids]
        if len(signatures) == 1:
            signatures[0].apply_async(queue=self.settings.jobs_queue)
        elif signatures:
            group(signatures).apply_async(queue=self.settings.jobs_queue)


def make_executor(settings: Settings, factory: sessionmaker[Session]) -> Executor:
    """Celery when `BASKETS_BROKER_URL` is set, else the in-process thread pool."""
    if settings.broker_url:
        from baskets.jobs.celery_app import make_celery

        return CeleryExecutor(make_celery(settings), settings)
    return InProcessExecutor(factory, settings)


def executor_for(session: Session) -> Executor:
    """The executor attached to the session (request, worker), else one for its bind."""
    executor = session.info.get(EXECUTOR_KEY)
    if executor is None:
        from baskets.config import get_settings
        from baskets.db import make_session_factory

        bind = session.get_bind()
        factory = (sessionmaker(bind=bind, join_transaction_mode="create_savepoint",
                                expire_on_commit=False)
                   if isinstance(bind, Connection) else make_session_factory(bind))
        executor = make_executor(get_settings(), factory)
        session.info[EXECUTOR_KEY] = executor
    return executor


def enqueue_after_commit(session: Session, job_id: uuid.UUID) -> None:
    """Hand `job_id` to the executor once the session's transaction commits."""
    session.info.setdefault(PENDING_KEY, []).append(job_id)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    job_ids: list[uuid.UUID] = session.info.pop(PENDING_KEY, [])
    if not job_ids:
        return
    try:
        executor_for(session).enqueue(job_ids)
    except Exception as exc:  # noqa: BLE001 - the jobs are stored: the reconciler resends them
        log.warning("could not enqueue %d job(s) now (%s); the reconciler will",
                    len(job_ids), type(exc).__name__)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


__all__ = ["CeleryExecutor", "Executor", "InProcessExecutor", "enqueue_after_commit",
           "executor_for", "make_executor", "time_cap"]
