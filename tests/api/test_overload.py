"""Under load the server degrades instead of falling over: reads never take SQLite's write
lock, password hashing runs with no transaction open, and overload answers 503 with
Retry-After (never 500), from a database connection or lock that does not come in time or
from the admission limit."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from baskets.accounts.security import issue_token
from baskets.api.app import create_app
from baskets.api.middleware import AdmissionControl, path_without_values
from baskets.config import Settings
from baskets.db import make_engine, make_session_factory
from baskets.migrate import upgrade
from tests.api.test_behaviour import household_body
from tests.world import PASSWORD, World, build_world

KEY = "overload-tests-secret-key-0123456789"


@pytest.fixture
def sqlite_file(tmp_path: Path) -> tuple[str, World]:
    """A migrated SQLite file holding a test world, committed (no test transaction)."""
    url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        world = build_world(session, Settings(secret_key=KEY))
        session.commit()
    engine.dispose()
    return url, world


def test_sqlite_reads_and_logins_never_wait_for_the_write_lock(
        sqlite_file: tuple[str, World], tmp_path: Path) -> None:
    """While another connection holds the write lock: lists and logins answer at once (each
    read took BEGIN IMMEDIATE and waited, then 500); a write waits busy_timeout, then gets
    503 with Retry-After; once the lock is free the write goes through."""
    url, world = sqlite_file
    settings = Settings(database_url=url, secret_key=KEY, sqlite_busy_timeout_seconds=0.3,
                        jobs_inprocess_reconcile=False)
    holder = sqlite3.connect(tmp_path / "load.sqlite3", isolation_level=None)
    with TestClient(create_app(settings), raise_server_exceptions=False,
                    base_url="https://testserver") as client:
        holder.execute("BEGIN IMMEDIATE")
        try:
            listed = client.get("/api/v1/households", headers=world.auth("assoc1"))
            assert listed.status_code == 200, listed.text
            login = client.post("/api/v1/auth/token", data={"username": world.emails["coord1"],
                                                            "password": PASSWORD})
            assert login.status_code == 200, login.text
            blocked = client.post("/api/v1/households", json=household_body(world),
                                  headers=world.auth("assoc1"))
            assert blocked.status_code == 503, blocked.text
            assert blocked.headers["Retry-After"] == "1"
            assert blocked.json()["error"]["code"] == "unavailable"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        created = client.post("/api/v1/households", json=household_body(world),
                              headers=world.auth("assoc1"))
        assert created.status_code == 201, created.text


def test_no_free_connection_is_503_not_500(engine: Engine) -> None:
    """Every connection of the pool taken: the request waits BASKETS_DB_POOL_TIMEOUT_SECONDS,
    then answers 503 with Retry-After (it answered 500 after 30 s), and the health check
    answers meanwhile; the next request after the release is served."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, secret_key=KEY, db_pool_size=1, db_max_overflow=0,
                        db_pool_timeout_seconds=0.2, jobs_inprocess_reconcile=False)
    app = create_app(settings)
    pool_engine = app.state.session_factory.kw["bind"]
    # Well signed, so the user is looked up in the database (an unknown one: 401 once served).
    token = {"Authorization": "Bearer " + issue_token(uuid.uuid4(), secret=KEY, ttl_minutes=5)}
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as client:
        held = pool_engine.connect()
        try:
            busy = client.get("/api/v1/me", headers=token)
            assert busy.status_code == 503, busy.text
            assert busy.headers["Retry-After"] == "1"
            assert client.get("/api/v1/health").status_code == 200
        finally:
            held.close()
        assert client.get("/api/v1/me", headers=token).status_code == 401
    pool_engine.dispose()


def test_admission_control_answers_503_beyond_the_queue() -> None:
    """With one slot and one waiting place, of four requests at once one is served, one waits
    and is served, and two get 503 with Retry-After at once; health is never held."""
    settings = Settings(secret_key=KEY, max_concurrent_requests=1, max_queued_requests=1,
                        queue_timeout_seconds=5)
    served: list[str] = []

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.2)
        served.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admission = AdmissionControl(slow_app, settings=settings)

    async def call(path: str) -> tuple[int, dict[bytes, bytes]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await admission({"type": "http", "path": path, "headers": []}, receive, send)
        return sent[0]["status"], dict(sent[0].get("headers") or [])

    async def burst() -> list[tuple[int, dict[bytes, bytes]]]:
        return await asyncio.gather(*(call("/api/v1/households") for _ in range(4)),
                                    call("/api/v1/health"))

    answers = asyncio.run(burst())
    statuses = sorted(status for status, _ in answers[:4])
    assert statuses == [200, 200, 503, 503]
    assert all(headers[b"retry-after"] == b"1" for status, headers in answers if status == 503)
    assert answers[4][0] == 200


def test_access_log_keeps_query_names_not_values(caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access line for a search keeps the path and the parameter names, never the
    searched name or phone."""
    from baskets.api.middleware import filter_access_log

    filter_access_log()
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
            "/api/v1/households?q=Samia%20K.&phone=0639981234&limit=50", "1.1", 200)
    line = caplog.records[-1].getMessage()
    assert "/api/v1/households?q=…&phone=…&limit=…" in line
    assert "Samia" not in line
    assert "0639981234" not in line
    assert path_without_values("/api/v1/health") == "/api/v1/health"


def test_api_answers_carry_security_headers(client: TestClient, world: World) -> None:
    """JSON answers, errors included, carry nosniff, DENY, a referrer policy, a strict
    content policy and no-store."""
    for response in (client.get("/api/v1/me", headers=world.auth("assoc1")),
                     client.get("/api/v1/me"), client.get("/api/v1/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_cookies_are_secure_except_on_the_demo(settings: Settings, session_factory: Any,
                                               world: World) -> None:
    """Outside `baskets demo` every cookie is Secure, even when the app sees plain HTTP
    (behind a TLS proxy); the demo on http://127.0.0.1 keeps them usable."""
    for demo, secure in ((False, True), (True, False)):
        app = create_app(settings, session_factory=session_factory, demo=demo)
        with TestClient(app, base_url="http://testserver") as client:
            page = client.get("/")
            cookie = page.headers["set-cookie"]
            assert ("secure" in cookie.lower()) is secure, cookie
