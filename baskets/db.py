"""Engine and session factory built from settings (never at import), and the declarative Base."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, Uuid, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite stores none: we store and read UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored datetime must carry its timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
        uuid.UUID: Uuid,
    }


class IdMixin:
    """UUID primary key and creation time, shared by every table."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT: we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers go on while one writer writes (the demo serves several users).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return on_connect


_READS = ("SELECT", "PRAGMA", "EXPLAIN", "WITH")


def _writes(statement: str, context: Any) -> bool:
    """Whether a statement needs the write lock: anything but a plain read (a SELECT ... FOR
    UPDATE counts as a write, as it announces one, like on PostgreSQL)."""
    if not statement.lstrip().upper().startswith(_READS):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


def _sqlite_begin_at_first_write(conn: Any, cursor: Any, statement: str, parameters: Any,
                                 context: Any, executemany: bool) -> None:
    # Reads never take SQLite's write lock: until a transaction writes, each read runs on its
    # own (autocommit), seeing the latest committed data, as under PostgreSQL's READ
    # COMMITTED. The first write (or SAVEPOINT, or SELECT ... FOR UPDATE) begins IMMEDIATE:
    # the write lock is taken up front and held until commit, so writers wait for each other
    # (busy_timeout) instead of failing with "database is locked" when a deferred transaction
    # tries to upgrade after another writer committed.
    dbapi_connection = cursor.connection
    if not dbapi_connection.in_transaction and _writes(statement, context):
        dbapi_connection.execute("BEGIN IMMEDIATE")


def _sqlite_no_begin(connection: Any) -> None:
    # SQLAlchemy's BEGIN is deferred to the first write (see _sqlite_begin_at_first_write).
    return None


class HideRowValues(logging.Filter):
    """At DEBUG, SQLAlchemy's engine logs every fetched row with its values (names, phones,
    addresses): keep the record, drop the values. hide_parameters covers only parameters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Row"):
            record.msg = "Row [values hidden]"
            record.args = ()
        return True


ROW_FILTER = HideRowValues()


def hide_row_values() -> None:
    """Put the row filter on SQLAlchemy's engine loggers (once)."""
    for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine",
                 "sqlalchemy.engine.base.Engine"):
        logger = logging.getLogger(name)
        if ROW_FILTER not in logger.filters:
            logger.addFilter(ROW_FILTER)


def make_engine(url: str, *, busy_timeout_seconds: float = 10.0, **kwargs: Any) -> Engine:
    """Create an engine for `url`; SQLite gets foreign keys on and its folder created.

    `kwargs` go to `create_engine` (pool sizes and timeout: see `pool_options`).
    """
    parsed = make_url(url)
    hide_row_values()
    # Statement parameters may hold personal data: never let them into exception messages.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            for option in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(option, None)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout_seconds * 1000)))
        event.listen(engine, "begin", _sqlite_no_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_begin_at_first_write)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def pool_options(settings: Any, *, background: bool = False) -> dict[str, Any]:
    """Engine options from settings: the request pool, or the small pool of background work
    (in-process jobs, the reconciler), kept apart so neither can starve the other."""
    if background:
        size = settings.jobs_inprocess_workers + 1
        return {"pool_size": size, "max_overflow": 1, "pool_timeout": 30.0,
                "busy_timeout_seconds": max(settings.sqlite_busy_timeout_seconds, 30.0)}
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout_seconds,
            "busy_timeout_seconds": settings.sqlite_busy_timeout_seconds}


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction outside a request: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
