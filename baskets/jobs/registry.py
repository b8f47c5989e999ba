"""The task registry: a domain registers a job kind in `baskets/<domain>/tasks.py`.

A task is ``(session, job, progress) -> dict``. It reads what it needs with `session`, reports
with ``progress(percent, message_fr)`` (own short transaction; raises `Cancelled` once the job
is cancelled), writes its records with `session` (flush only) and returns the job's result. The
runner commits those writes together with the job's final status, in one transaction.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from baskets.jobs.models import Job


class Cancelled(Exception):
    """The job was cancelled (or another run took it over): stop and store nothing."""


class Deferred(Exception):  # noqa: N818 - a signal, not an error
    """The task split itself into child jobs; the last child to end finishes the parent."""


class Progress(Protocol):
    def __call__(self, percent: int, message_fr: str) -> None: ...


TaskFn = Callable[[Session, Job, Progress], dict[str, Any]]
# Called in the last child's final transaction: the parent's result from its children.
FinishFn = Callable[[Session, Job, Sequence[Job]], dict[str, Any]]

# The key of a task's result that says its solve hit its time limit (best answer kept).
TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Registered:
    run: TaskFn
    finish: FinishFn | None = None


_TASKS: dict[str, Registered] = {}


def register(kind: str, *, finish: FinishFn | None = None) -> Callable[[TaskFn], TaskFn]:
    """Register `fn` as the task of job kind `kind` (decorator)."""

    def decorate(fn: TaskFn) -> TaskFn:
        _TASKS[kind] = Registered(fn, finish)
        return fn

    return decorate


def get_task(kind: str) -> Registered:
    """The task of `kind`, importing `baskets.<domain>.tasks` for kind `<domain>[.part]`."""
    if kind not in _TASKS:
        domain = kind.split(".", 1)[0]
        if not domain.isidentifier():
            raise KeyError(kind)
        importlib.import_module(f"baskets.{domain}.tasks")
    return _TASKS[kind]


def known_kinds() -> Sequence[str]:
    """Kinds registered so far (imported domains only)."""
    return sorted(_TASKS)


def noop_progress(percent: int, message_fr: str) -> None:
    """Progress for synchronous runs (CLI, demo): nothing to report to."""


def describe(exc: BaseException) -> str:
    """A job's stored error: the domain message in French, else only the exception's type."""
    from baskets.errors import DomainError

    if isinstance(exc, DomainError):
        return exc.message_fr
    # Messages of other exceptions may carry personal data; keep the type only.
    return f"Erreur interne ({type(exc).__name__})."


__all__ = ["Any", "Cancelled", "Deferred", "Progress", "TaskFn", "describe", "get_task",
           "known_kinds", "noop_progress", "register"]
