"""API latency and throughput: household create and list on the demo data.

Two modes, each on a fresh database loaded with the demo fixtures:

- open (default): fixed arrival rates, whatever the server does (open loop). Each request is
  sent at its scheduled time; its latency runs from that time, so queueing counts. Per rate
  and operation: p50/p95/p99 (ms), 2xx, 429/503 (refused with Retry-After), 5xx and
  unanswered (client timeout). After the highest rate, a light probe (20/s) measures how long
  the server takes to answer p95 <= 50 ms again (recovery). SQLite is served as `baskets
  serve` (one process); PostgreSQL as the production recipe, `uvicorn baskets.api.asgi:app
  --workers 2`.
- closed: a few client threads back to back (the older figure: requests/s at saturation).

    .venv/bin/python benchmarks/api.py [--backends sqlite,postgresql] [--step-seconds 30]
        [--sqlite-rates 25,50,100,200,300] [--postgresql-rates 50,100,200,400,600]
    .venv/bin/python benchmarks/api.py --mode closed [--requests 400] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "BASKETS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ASSOCIATION = "accueil@entraide-nord-littoral.demo"
PASSWORD = "paniers-demo"
SECRET = "benchmark-secret-key-not-for-production"
TARGET_MS = 50.0
PROBE_RATE = 20.0


# Ports kept for this benchmark on the shared development machine (8210-8219).
PORTS = range(8210, 8220)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8210-8219")


def prepare(url: str) -> None:
    env = {**os.environ, "BASKETS_DATABASE_URL": url, "BASKETS_SECRET_KEY": SECRET}
    subprocess.run([sys.executable, "-m", "baskets.cli", "demo", "--no-serve"], env=env,
                   check=True, capture_output=True)


def serve(url: str, port: int, command: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BASKETS_DATABASE_URL": url, "BASKETS_LOG_LEVEL": "WARNING",
           "BASKETS_SECRET_KEY": SECRET}
    # The server's own output (access log) goes to a file beside the database, not the figures.
    log = Path(tempfile.gettempdir()) / f"baskets-bench-server-{port}.log"
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def household(point: dict[str, Any], i: int) -> dict[str, Any]:
    monday = date.today() - timedelta(days=date.today().weekday())
    return {"reference": f"BENCH-{uuid.uuid4().hex[:12]}", "adults": 1 + i % 3,
            "children": i % 4, "neighbourhood_id": point["neighbourhood_id"],
            "distribution_point_id": point["id"], "referral_reason": "job_loss",
            "valid_until": (monday + timedelta(days=90)).isoformat(),
            "consent_date": monday.isoformat(), "last_contact_date": monday.isoformat()}


# ------------------------------------------------------------------------------ open loop


@dataclass
class Step:
    """What one rate gave: latencies from the scheduled send, and the answers by class."""

    label: str
    rate: float
    latencies: list[float] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=lambda: {
        "2xx": 0, "429/503": 0, "5xx": 0, "other": 0, "unanswered": 0})

    def count(self, status: int | None) -> None:
        key = ("unanswered" if status is None else "2xx" if status < 300
               else "429/503" if status in (429, 503) else "5xx" if status >= 500 else "other")
        self.answers[key] += 1

    def line(self) -> str:
        served = sorted(self.latencies)
        if len(served) >= 2:
            q = statistics.quantiles(served, n=100)
            p50, p95, p99 = statistics.median(served), q[94], q[98]
        else:
            p50 = p95 = p99 = float("nan")
        a = self.answers
        return (f"  {self.label:<20} {self.rate:6.0f}/s  n={sum(a.values()):<6} "
                f"p50={p50:7.1f} p95={p95:7.1f} p99={p99:7.1f} ms  2xx={a['2xx']:<6} "
                f"429/503={a['429/503']:<6} 5xx={a['5xx']:<4} other={a['other']:<4} "
                f"unanswered={a['unanswered']}")


async def open_loop(client: httpx.AsyncClient, step: Step, seconds: float,
                    make: Callable[[int], tuple[str, str, dict[str, Any] | None]],
                    on_done: Callable[[float, float, int | None], None] | None = None) -> None:
    """Send `step.rate` requests per second for `seconds`, each at its scheduled time."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    total = int(step.rate * seconds)
    tasks = []

    async def one(i: int, due: float) -> None:
        method, path, body = make(i)
        status: int | None
        try:
            response = await client.request(method, path, json=body)
            status = response.status_code
        except httpx.HTTPError:
            status = None
        elapsed_ms = (loop.time() - due) * 1000
        step.count(status)
        if status is not None and status < 300:
            step.latencies.append(elapsed_ms)
        if on_done is not None:
            on_done(due - start, elapsed_ms, status)

    for i in range(total):
        due = start + i / step.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)


async def recovery(client: httpx.AsyncClient, make: Callable[[int], tuple[str, str, Any]],
                   seconds: float = 10.0) -> float | None:
    """Right after an overload: seconds until a 1-s window of the probe has p95 <= 50 ms
    with every answer 2xx (None if that never happens within `seconds`)."""
    windows: dict[int, list[tuple[float, int | None]]] = {}

    def record(at: float, ms: float, status: int | None) -> None:
        windows.setdefault(int(at * 2), []).append((ms, status))  # half-second windows

    probe = Step("probe", PROBE_RATE)
    await open_loop(client, probe, seconds, make, record)
    for index in sorted(windows):
        window = windows[index] + windows.get(index + 1, [])
        latencies = sorted(ms for ms, status in window if status is not None and status < 300)
        if len(latencies) == len(window) >= 5:
            p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
            if p95 <= TARGET_MS:
                return index / 2
    return None


async def run_open(base: str, token: str, rates: list[float], seconds: float) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10,
                                 limits=limits) as client:
        point = (await client.get("/distribution-points?limit=1")).json()["items"][0]
        operations: dict[str, Callable[[int], tuple[str, str, dict[str, Any] | None]]] = {
            "household create": lambda i: ("POST", "/households", household(point, i)),
            "household list (50)": lambda i: (
                "GET", f"/households?limit=50&offset={(i * 50) % 1000}", None),
        }
        for label, make in operations.items():
            for rate in rates:
                step = Step(label, rate)
                await open_loop(client, step, seconds, make)
                print(step.line(), flush=True)
                await asyncio.sleep(2)
            # Overload once more at the highest rate, then measure how soon it recovers.
            await open_loop(client, Step(label, rates[-1]), min(seconds, 10), make)
            back = await recovery(client, make)
            print(f"  {label:<20} recovery after {rates[-1]:.0f}/s: "
                  + (f"p95 <= {TARGET_MS:.0f} ms within {back:.1f} s" if back is not None
                     else "not within 10 s"), flush=True)
            await asyncio.sleep(2)


# ---------------------------------------------------------------------------- closed loop


def measure(label: str, calls: list[tuple[str, str, dict[str, object] | None]],
            client: httpx.Client, concurrency: int) -> None:
    latencies: list[float] = []
    errors = 0

    def one(call: tuple[str, str, dict[str, object] | None]) -> None:
        nonlocal errors
        method, path, body = call
        start = time.perf_counter()
        response = client.request(method, path, json=body)
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code >= 400:
            errors += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, calls))
    wall = time.perf_counter() - start
    quantiles = statistics.quantiles(latencies, n=20)
    print(f"  {label:<22} n={len(calls):<5} p50={statistics.median(latencies):7.1f} ms"
          f"  p95={quantiles[18]:7.1f} ms  {len(calls) / wall:7.1f} req/s  errors={errors}")


def run_closed(base: str, token: str, requests: int, concurrency: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30,
                      limits=httpx.Limits(max_connections=concurrency)) as client:
        point = client.get("/distribution-points?limit=1").json()["items"][0]
        creates = [("POST", "/households", household(point, i)) for i in range(requests)]
        lists = [("GET", f"/households?limit=50&offset={(i * 50) % 200}", None)
                 for i in range(requests)]
        measure("household create", creates, client, concurrency)
        measure("household list (50)", lists, client, concurrency)


# ------------------------------------------------------------------------------- backends


def run_backend(name: str, url: str, args: argparse.Namespace, rates: list[float]) -> None:
    prepare(url)
    port = free_port()
    if name == "SQLite":
        command = [sys.executable, "-m", "baskets.cli", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "uvicorn", "baskets.api.asgi:app", "--host",
                   "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                   "--log-level", "warning", "--no-access-log"]
    server = serve(url, port, command)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        token = httpx.post(f"{base}/auth/token",
                           data={"username": ASSOCIATION, "password": PASSWORD}).json()
        print(f"{name} ({' '.join(command[1:4])}…; load average before: "
              f"{os.getloadavg()[0]:.1f}):", flush=True)
        if args.mode == "open":
            asyncio.run(run_open(base, token["access_token"], rates, args.step_seconds))
        else:
            run_closed(base, token["access_token"], args.requests, args.concurrency)
        print(f"  load average after: {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["open", "closed"], default="open")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--sqlite-rates", default="25,50,100,200,300")
    parser.add_argument("--postgresql-rates", default="50,100,200,400,600")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (PostgreSQL)")
    parser.add_argument("--requests", type=int, default=400, help="closed mode")
    parser.add_argument("--concurrency", type=int, default=4, help="closed mode")
    args = parser.parse_args()
    backends = args.backends.split(",")
    # Stopped from outside (SIGTERM): still stop the server and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def rates(text_rates: str) -> list[float]:
        return [float(rate) for rate in text_rates.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args,
                        rates(args.sqlite_rates))
        if "postgresql" in backends:
            name = f"baskets_bench_{os.getpid()}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                run_backend("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args,
                            rates(args.postgresql_rates))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
