"""The command line: import with --dry-run then for real, export, and the retention command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from baskets.cli import app
from baskets.config import Settings, get_settings
from baskets.db import make_engine, make_session_factory
from baskets.households.models import Household
from baskets.migrate import upgrade
from tests.io.helpers import HEADERS, csv_bytes, household_rows
from tests.io.weekdata import make_week
from tests.world import build_world


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated SQLite file with the test world, as the CLI's database."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        world = build_world(session, Settings(secret_key="test-secret-key-0123456789-abcdef"))
        session.commit()
        if "allocated" in request.node.name:
            make_week(session, world)
    engine.dispose()
    monkeypatch.setenv("BASKETS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _households(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Household)) or 0
    engine.dispose()
    return count


def test_import_export_and_retention_commands(cli_db: str, tmp_path: Path) -> None:
    """`baskets import households` (dry run, then commit), `baskets export households`, and
    `baskets gdpr retention` print what they did; bad rows exit 1 with row and column."""
    rows = household_rows(count=2)
    rows[1][12] = rows[1][13] = (date.today() - timedelta(days=900)).strftime("%d/%m/%Y")
    file = tmp_path / "foyers.csv"
    file.write_bytes(csv_bytes(HEADERS, rows, encoding="cp1252"))
    runner = CliRunner()
    args = ["import", "households", str(file), "--organisation", "Org assoc1"]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout.splitlines()[0])["created"] == 2
    assert _households(cli_db) == 0
    real = runner.invoke(app, args)
    assert json.loads(real.stdout.splitlines()[0])["written"] is True
    assert _households(cli_db) == 2
    exported = runner.invoke(app, ["export", "households", "--organisation", "Org assoc1"])
    assert exported.stdout.splitlines()[0].startswith("Référence;")
    preview = runner.invoke(app, ["gdpr", "retention", "--dry-run"])
    assert json.loads(preview.stdout)["erased"] == 1
    done = json.loads(runner.invoke(app, ["gdpr", "retention"]).stdout)
    assert (done["dry_run"], done["erased"]) == (False, 1)
    # What it says is counts per organisation: no reference, name, id or date of a household.
    assert done["organisations"] == [{"organisation_id": done["organisations"][0][
        "organisation_id"], "organisation": "Org assoc1", "households": 1}]
    said = json.dumps(done, ensure_ascii=False)
    for secret in ("IMP-", rows[1][1], rows[1][2], rows[1][12]):
        assert secret not in said
    assert json.loads(runner.invoke(app, ["gdpr", "retention"]).stdout)["erased"] == 0
    rows[0][4] = "zéro"
    file.write_bytes(csv_bytes(HEADERS, rows))
    bad = runner.invoke(app, args)
    assert bad.exit_code == 1
    assert "ligne 2, colonne « Adultes »" in bad.output
    wrong = runner.invoke(app, ["import", "households", str(file), "--organisation", "Org team1"])
    assert wrong.exit_code == 2


def test_export_baskets_command_on_an_allocated_week(cli_db: str, tmp_path: Path) -> None:
    """`baskets export baskets` writes a food team's whole week, or an association's own
    baskets, by the week's Monday; an unknown week exits 2."""
    from tests.api.records import MONDAY

    runner = CliRunner()
    monday = (MONDAY + timedelta(days=21)).isoformat()
    team = runner.invoke(app, ["export", "baskets", "--organisation", "Org team1",
                               "--week", monday])
    assert team.exit_code == 0, team.output
    lines = team.stdout.strip().splitlines()
    assert lines[0].startswith("Point de distribution;Quartier;Foyer;")
    assert len(lines) == 7
    out = tmp_path / "paniers.xlsx"
    mine = runner.invoke(app, ["export", "baskets", "--organisation", "Org assoc1",
                               "--week", monday, "--format", "xlsx", "--output", str(out)])
    assert mine.exit_code == 0, mine.output
    assert "3 ligne(s)" in mine.stdout
    assert out.read_bytes().startswith(b"PK")
    missing = runner.invoke(app, ["export", "baskets", "--organisation", "Org team1",
                                  "--week", "2001-01-01"])
    assert missing.exit_code == 2


def test_retention_months_come_from_the_setting(cli_db: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """BASKETS_RETENTION_MONTHS sets the default period; --months overrides it."""
    rows = household_rows(count=1)
    rows[0][12] = rows[0][13] = (date.today() - timedelta(days=200)).strftime("%d/%m/%Y")
    file = tmp_path / "foyers.csv"
    file.write_bytes(csv_bytes(HEADERS, rows))
    runner = CliRunner()
    assert runner.invoke(app, ["import", "households", str(file), "--organisation",
                               "Org assoc1"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["gdpr", "retention", "--dry-run"]).stdout)[
        "erased"] == 0
    monkeypatch.setenv("BASKETS_RETENTION_MONTHS", "6")
    get_settings.cache_clear()
    preview = json.loads(runner.invoke(app, ["gdpr", "retention", "--dry-run"]).stdout)
    assert (preview["months"], preview["erased"]) == (6, 1)
    assert json.loads(runner.invoke(app, ["gdpr", "retention", "--dry-run", "--months",
                                          "12"]).stdout)["erased"] == 0
