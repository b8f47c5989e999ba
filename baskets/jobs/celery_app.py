"""The Celery application: `celery -A baskets.jobs.celery_app worker` (or `baskets worker`).

Settings that make crashes survivable for these idempotent tasks: late acknowledgement and
reject-on-worker-lost (a killed worker's job goes back to the queue), one message prefetched per
process, a visibility timeout longer than the hard time limit (Redis redelivers only jobs that
are really lost), soft and hard time limits, and the attempt cap kept in the database.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from baskets.config import Settings, get_settings

RUN_TASK = "baskets.jobs.run"

_factories: dict[tuple[int, str], sessionmaker[Session]] = {}


def _factory(settings: Settings) -> sessionmaker[Session]:
    # One engine per worker process, made after the fork (connections must not be shared).
    from baskets.db import make_engine, make_session_factory

    key = (os.getpid(), settings.database_url)
    if key not in _factories:
        _factories[key] = make_session_factory(make_engine(settings.database_url))
    return _factories[key]


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings derived from ours (checked: the visibility timeout covers any run)."""
    if settings.jobs_visibility_timeout_seconds <= settings.jobs_hard_time_limit_seconds:
        raise ValueError(
            "BASKETS_JOBS_VISIBILITY_TIMEOUT_SECONDS must exceed "
            "BASKETS_JOBS_HARD_TIME_LIMIT_SECONDS, or Redis would redeliver running jobs."
        )
    if settings.jobs_soft_time_limit_seconds >= settings.jobs_hard_time_limit_seconds:
        raise ValueError("BASKETS_JOBS_SOFT_TIME_LIMIT_SECONDS must be below the hard limit.")
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": settings.jobs_queue,
        "task_soft_time_limit": settings.jobs_soft_time_limit_seconds,
        "task_time_limit": settings.jobs_hard_time_limit_seconds,
        "broker_transport_options": {
            "visibility_timeout": settings.jobs_visibility_timeout_seconds,
        },
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "worker_send_task_events": False,
        "enable_utc": True,
    }


def make_celery(settings: Settings) -> Celery:
    """A Celery app for `settings`, with the one task that runs a job by id."""
    from baskets.jobs.executor import CeleryExecutor
    from baskets.jobs.runner import run_job, time_cap

    app = Celery("baskets", broker=settings.broker_url or "memory://", set_as_current=False)
    app.conf.update(celery_config(settings))

    @app.task(name=RUN_TASK, shared=False)  # type: ignore[untyped-decorator]
    def run(job_id: str) -> str | None:
        status = run_job(_factory(settings), uuid.UUID(job_id), settings=settings,
                         executor=CeleryExecutor(app, settings), cap=time_cap(settings))
        return None if status is None else status.value

    return app


celery_app = make_celery(get_settings())
