"""The `baskets` command: demo, serve, db, fixtures, solve."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from baskets.config import get_settings
from baskets.io.cli import export_app, gdpr_app, import_app

app = typer.Typer(help="Paniers solidaires / solidarity baskets.", no_args_is_help=True)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
fixtures_app = typer.Typer(help="Demo fixtures.", no_args_is_help=True)
solve_app = typer.Typer(help="Run a solver on a scenario file; prints JSON.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(fixtures_app, name="fixtures")
app.add_typer(solve_app, name="solve")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(gdpr_app, name="gdpr")
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

TimeLimit = Annotated[float, typer.Option("--time-limit", min=0.1, help="Seconds.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed.")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    from baskets.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Base de données à jour / database up to date.")


@fixtures_app.command("load")
def fixtures_load(
    directory: Annotated[Path | None, typer.Option(help="Fixtures folder.")] = None,
    week_start: Annotated[str | None, typer.Option(help="Week's Monday, YYYY-MM-DD.")] = None,
) -> None:
    """Load the demo fixtures (once; a loaded database is left as it is)."""
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.demo.loader import DEFAULT_FIXTURES, load_demo

    engine = make_engine(get_settings().database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        report = load_demo(
            session,
            directory=directory or DEFAULT_FIXTURES,
            week_start=date.fromisoformat(week_start) if week_start else None,
        )
    engine.dispose()
    if report.skipped:
        typer.echo("Données de démonstration déjà chargées / demo data already loaded.")
    else:
        typer.echo(json.dumps(report.counts, indent=1))


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the API and the site."""
    _serve(host, port, demo=False)


def _serve(host: str, port: int, *, demo: bool) -> None:
    import uvicorn

    from baskets.api.app import create_app

    # proxy_headers off: uvicorn would believe any X-Forwarded-For sent from 127.0.0.1;
    # the app reads it itself, from BASKETS_TRUSTED_PROXIES only.
    uvicorn.run(create_app(demo=demo), host=host, port=port, proxy_headers=False)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork or solo.")] = "prefork",
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Start a Celery worker on the jobs queue (needs BASKETS_BROKER_URL)."""
    settings = get_settings()
    if not settings.broker_url:
        typer.echo("BASKETS_BROKER_URL n'est pas défini / is not set.", err=True)
        raise typer.Exit(code=2)
    from baskets.jobs.celery_app import celery_app

    celery_app.worker_main([
        "worker", "--queues", settings.jobs_queue, "--concurrency", str(concurrency),
        "--pool", pool, "--loglevel", loglevel, "--without-gossip", "--without-mingle",
        "--without-heartbeat",
    ])


@jobs_app.command("reconcile")
def jobs_reconcile(
    every: Annotated[float | None, typer.Option(
        "--every", min=0.1, help="Repeat every S seconds (default: once).")] = None,
    loop: Annotated[bool, typer.Option(
        "--loop", help="Repeat every BASKETS_JOBS_RECONCILE_EVERY_SECONDS.")] = False,
) -> None:
    """Re-enqueue queued or running jobs whose lease expired (lost message, dead worker).

    Looping, it outlives the failures it exists to heal: a broker or database that is down
    is logged and retried with backoff (up to the period), never a reason to exit.
    """
    import logging
    import time

    from baskets.db import make_engine, make_session_factory
    from baskets.jobs.executor import make_executor
    from baskets.jobs.service import reconcile

    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    log = logging.getLogger("baskets.jobs.reconcile")
    if loop and every is None:
        every = settings.jobs_reconcile_every_seconds
    factory = make_session_factory(make_engine(settings.database_url))
    executor = make_executor(settings, factory)
    failures = 0
    while True:
        try:
            ids = reconcile(factory, executor, settings)
        except Exception as exc:
            if every is None:
                raise
            failures += 1
            pause = min(every, 0.5 * 2 ** min(failures, 10))
            log.warning("reconcile failed (%s); retrying in %.1f s (failure %d)",
                        type(exc).__name__, pause, failures)
            time.sleep(pause)
            continue
        if failures:
            log.info("reconcile works again after %d failure(s)", failures)
            failures = 0
        typer.echo(f"{len(ids)} tâche(s) relancée(s) / job(s) re-enqueued")
        if every is None:
            break
        time.sleep(every)
    shutdown = getattr(executor, "shutdown", None)
    if shutdown is not None:
        shutdown(wait=True)


@jobs_app.command("check")
def jobs_check() -> None:
    """Read-only health check: the database answers; prints the jobs per status."""
    from sqlalchemy import func, select

    from baskets.db import make_engine, make_session_factory
    from baskets.jobs.models import Job

    engine = make_engine(get_settings().database_url)
    with make_session_factory(engine)() as session:
        counts = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    engine.dispose()
    typer.echo(json.dumps({str(status): count for status, count in counts.items()}))


def run_demo_week() -> None:
    """Run the demo week's solves (allocation now; rounds and matching as they land)."""
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.demo.week import run_week
    from baskets.rounds.service import PlanningOptions

    settings = get_settings()
    engine = make_engine(settings.database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        for line in run_week(session, time_limit=settings.solver_time_limit_seconds,
                             seed=settings.solver_seed,
                             options=PlanningOptions.from_settings(settings)):
            typer.echo(line)
    engine.dispose()


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare only.")] = False,
) -> None:
    """Migrate the embedded database, load the demo fixtures, and serve the site."""
    db_upgrade()
    fixtures_load()
    run_demo_week()
    if not no_serve:
        typer.echo(f"http://{host}:{port}/ — comptes de démonstration : voir README.md")
        _serve(host, port, demo=True)


@solve_app.command("allocation")
def solve_allocation(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    time_limit: TimeLimit = 30.0,
    seed: Seed = 1,
) -> None:
    """Fair allocation of a week's lots to households."""
    from baskets.optimizer.allocation import run_scenario
    from baskets.scenario import read_json_file

    _print_or_exit(lambda: run_scenario(read_json_file(scenario), time_limit=time_limit,
                                        seed=seed))


@solve_app.command("routes")
def solve_routes(
    scenario: Annotated[Path | None, typer.Argument(help="Round-planning scenario JSON file.")]
    = None,
    vrplib: Annotated[Path | None, typer.Option(
        "--vrplib", help="Solomon VRPTW or VRPLIB CVRP instance (benchmark contract).")] = None,
    time_limit: TimeLimit = 30.0,
    seed: Seed = 1,
) -> None:
    """Distribution rounds from a scenario, or a benchmark instance with --vrplib."""
    from baskets.scenario import ScenarioError

    if (scenario is None) == (vrplib is None):
        typer.echo("error: give either SCENARIO.json or --vrplib FILE (exactly one)", err=True)
        raise typer.Exit(code=2)

    def run() -> dict[str, Any]:
        from baskets.optimizer.routing import read_problem, result_to_data, solve_rounds

        if vrplib is not None:
            try:
                from baskets.optimizer.routing.contract import run_vrplib
            except ImportError as exc:
                raise ScenarioError(
                    "--vrplib needs PyVRP, an optional extra: pip install 'baskets[bench]' "
                    "(or 'pyvrp>=0.14,<0.15')"
                ) from exc
            return run_vrplib(vrplib, time_limit=time_limit, seed=seed)
        assert scenario is not None
        problem = read_problem(scenario)
        try:
            result = solve_rounds(problem, time_limit=time_limit, seed=seed)
        except ValueError as exc:
            raise ScenarioError(f"{scenario}: {exc}") from exc
        return result_to_data(result)

    _print_or_exit(run)


@solve_app.command("matching")
def solve_matching(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    time_limit: TimeLimit = 20.0,
    seed: Seed = 1,
) -> None:
    """People and sponsored hours for projects, fairest to the worst neighbourhood."""
    from baskets.matching.scenario import run_scenario
    from baskets.scenario import read_json_file

    _print_or_exit(lambda: run_scenario(read_json_file(scenario), time_limit=time_limit,
                                        seed=seed))


def _print_or_exit(run: Any) -> None:
    from baskets.scenario import ScenarioError

    try:
        result = run()
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":  # pragma: no cover
    app()
