"""API latency and throughput: household create and list on the demo data.

Starts a real uvicorn server (one process) on a fresh database loaded with the demo fixtures,
then sends requests from a few client threads over loopback. Prints p50/p95 latency (ms) and
requests/s for each backend.

    .venv/bin/python benchmarks/api.py [--requests 400] [--concurrency 4]
        [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "BASKETS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ASSOCIATION = "accueil@entraide-nord-littoral.demo"
PASSWORD = "paniers-demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SECRET = "benchmark-secret-key-not-for-production"


def prepare(url: str) -> None:
    env = {**os.environ, "BASKETS_DATABASE_URL": url, "BASKETS_SECRET_KEY": SECRET}
    subprocess.run([sys.executable, "-m", "baskets.cli", "demo", "--no-serve"], env=env,
                   check=True, capture_output=True)


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BASKETS_DATABASE_URL": url, "BASKETS_LOG_LEVEL": "WARNING",
           "BASKETS_SECRET_KEY": SECRET,
           "BASKETS_LOGIN_ATTEMPTS_PER_MINUTE": "1000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "baskets.api.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


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


def run_backend(name: str, url: str, requests: int, concurrency: int) -> None:
    prepare(url)
    port = free_port()
    server = serve(url, port)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        token = httpx.post(f"{base}/auth/token",
                           data={"username": ASSOCIATION, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30,
                          limits=httpx.Limits(max_connections=concurrency)) as client:
            point = client.get("/distribution-points?limit=1").json()["items"][0]
            monday = date.today() - timedelta(days=date.today().weekday())
            creates = [("POST", "/households", {
                "reference": f"BENCH-{uuid.uuid4().hex[:10]}", "adults": 1 + i % 3,
                "children": i % 4, "neighbourhood_id": point["neighbourhood_id"],
                "distribution_point_id": point["id"], "referral_reason": "job_loss",
                "valid_until": (monday + timedelta(days=90)).isoformat(),
                "consent_date": monday.isoformat(), "last_contact_date": monday.isoformat(),
            }) for i in range(requests)]
            lists = [("GET", f"/households?limit=50&offset={(i * 50) % 200}", None)
                     for i in range(requests)]
            print(f"{name}:")
            measure("household create", creates, client, concurrency)
            measure("household list (50)", lists, client, concurrency)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.requests,
                        args.concurrency)
        if "postgresql" in backends:
            name = f"baskets_bench_{os.getpid()}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                run_backend("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name,
                            args.requests, args.concurrency)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
