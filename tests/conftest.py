"""Fixtures shared by the whole suite: both databases, a transaction per test, a test world.

Every test that touches the database runs on SQLite and on PostgreSQL. When CI=true, a
PostgreSQL that cannot be reached fails the run; elsewhere those tests skip, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from baskets.api.app import create_app
from baskets.config import Settings
from baskets.db import make_engine
from baskets.migrate import upgrade
from tests.world import World, build_world

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "BASKETS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def unreachable(service: str, reason: str) -> None:
    """Fail under CI, skip elsewhere, always saying which service is missing."""
    message = f"{service} is unreachable ({reason}); start it (see README) to run these tests"
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def _postgres_engine(worker_tag: str) -> tuple[Engine, str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"baskets_test_{worker_tag}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    return make_engine(url), name


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    try:
        engine, name = _postgres_engine(f"{os.getpid()}_{uuid.uuid4().hex[:6]}")
    except Exception as exc:  # any connection failure means the server is not there
        unreachable("PostgreSQL", f"{PG_ADMIN_URL}: {type(exc).__name__}")
        raise
    upgrade(engine.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The migrated engine of each backend in turn."""
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits only release savepoints inside the test's transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret-key-0123456789-abcdef", login_attempts_per_minute=5,
                    duplicate_checks_per_hour=20)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # https: outside the embedded demo every cookie is Secure, and a client only sends those
    # back over HTTPS.
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver"
                    ) as test_client:
        yield test_client


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    """Two territories, their organisations and one user of every role, committed."""
    built = build_world(session, settings)
    session.commit()
    return built
