"""The README stays true: quick start commands, every setting with its default."""

from __future__ import annotations

from pathlib import Path

import pytest

from baskets.config import DEMO_SECRET_KEY, Settings, check_production_ready

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_the_two_commands() -> None:
    """The quick start names `make demo` and `make test`."""
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick_start
    assert "make test" in quick_start


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_with_its_default(name: str) -> None:
    """Each BASKETS_* setting has a row in the configuration table with its default."""
    default = Settings.model_fields[name].default
    row = next((line for line in README.splitlines()
                if line.startswith(f"| `BASKETS_{name.upper()}` |")), None)
    assert row is not None, f"BASKETS_{name.upper()} missing from the README"
    assert f"`{default}`" in row


def test_demo_secret_refused_outside_the_demo() -> None:
    """The published demo key is accepted only by `baskets demo` on its SQLite database:
    refused on PostgreSQL, and refused on SQLite outside the demo (`baskets serve`, uvicorn);
    keys shorter than 32 bytes are refused everywhere."""
    check_production_ready(Settings(secret_key=DEMO_SECRET_KEY, database_url="sqlite:///x.db"),
                           demo=True)
    for database_url, demo in (("postgresql+psycopg://h/db", True), ("sqlite:///x.db", False),
                               ("postgresql+psycopg://h/db", False)):
        with pytest.raises(RuntimeError, match="BASKETS_SECRET_KEY"):
            check_production_ready(Settings(secret_key=DEMO_SECRET_KEY,
                                            database_url=database_url), demo=demo)
    for key in ("x", "a" * 31):
        with pytest.raises(RuntimeError, match="32"):
            check_production_ready(Settings(secret_key=key,
                                            database_url="postgresql+psycopg://h/db"))
    check_production_ready(Settings(secret_key="k" * 32, database_url="postgresql+psycopg://h/db"))
