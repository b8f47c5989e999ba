"""A live server on the demo data and Debian's Chromium driven by Playwright, for the browser tests.

The database is a migrated temporary SQLite file loaded with the demo fixtures and committed,
so the uvicorn process (a separate process) sees it. Tile requests never leave the machine:
the tests answer them with a plain PNG, or refuse them to check markers still draw.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"
TILES = "https://tiles.invalid/{z}/{x}/{y}.png"
TILE_PATTERN = "https://tiles.invalid/**"
# A 1x1 light-grey PNG standing in for map tiles.
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
PASSWORD = "paniers-demo"
ROOT = Path(__file__).resolve().parents[2]


def need_chromium() -> None:
    """Fail under CI, skip elsewhere, when Chromium or Playwright is missing."""
    problem = None
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problem = (f"Chromium is missing at {CHROMIUM}; install it with "
                   "`apt-get install -y chromium` (make test does it where apt-get works)")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing; `pip install -e '.[dev]'`"
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true: {problem}", pytrace=False)
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_demo_database(path: Path) -> str:
    """Migrate a fresh SQLite file and load the demo fixtures into it, committed."""
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.demo.loader import load_demo
    from baskets.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        load_demo(session)
    engine.dispose()
    return url


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(tmp: Path) -> Iterator[LiveServer]:
    """uvicorn on 127.0.0.1 and a free port, in its own process, until the tests end."""
    url = build_demo_database(tmp / "demo.sqlite3")
    port = free_port()
    env = dict(os.environ, BASKETS_DATABASE_URL=url, BASKETS_TILES_URL=TILES,
               BASKETS_SECRET_KEY="browser-tests-secret-0123456789-abcdef",
               BASKETS_LOGIN_ATTEMPTS_PER_MINUTE="100", PYTHONPATH=str(ROOT))
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "baskets.api.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the test server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    try:
        yield LiveServer(base, url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Console:
    """Console errors and failed page errors seen by one page."""

    errors: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)

    def record(self, kind: str, text: str, url: str = "") -> None:
        if any(re.search(pattern, url or text) for pattern in self.allow):
            return
        self.errors.append(f"{kind}: {text} {url}".strip())


def watch(page: Any, console: Console) -> None:
    """Record every console error and uncaught exception of `page`."""
    page.on("console", lambda msg: console.record(
        "console", msg.text, (msg.location or {}).get("url", "")) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console.record("pageerror", str(exc)))


def login(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login page."""
    page.goto(base + "/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(base + "/")
