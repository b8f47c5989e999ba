"""Run Alembic migrations from code: the CLI, the demo and the tests all migrate this way."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config for our migrations folder, bound to `url` or to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(url, connection), "head")


def downgrade_to_base(url: str | None = None) -> None:
    """Undo every migration (used by the migration round-trip test)."""
    command.downgrade(alembic_config(url), "base")
