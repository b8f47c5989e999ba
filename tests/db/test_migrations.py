"""Migrations: they build the schema the models describe, and go down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from baskets.db import make_engine
from baskets.migrate import downgrade_to_base, upgrade
from baskets.models import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    """After upgrading, autogenerate finds nothing left to migrate (models = migrations)."""
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_then_upgrade(tmp_path: Path) -> None:
    """Every migration can be undone and redone."""
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    upgrade(url)
    downgrade_to_base(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    assert "households" in inspect(engine).get_table_names()
    engine.dispose()
