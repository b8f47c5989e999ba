"""The production recipe: docker-compose.yml names real settings and real commands."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from baskets.cli import app
from baskets.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"api", "worker", "reconciler", "postgres", "redis"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _commands(service: dict[str, Any]) -> list[list[str]]:
    """Every command line a service runs (its command and its health check)."""
    lines: list[list[str]] = []
    for raw in (service.get("command"), service.get("healthcheck", {}).get("test")):
        if raw is None:
            continue
        words = shlex.split(raw) if isinstance(raw, str) else list(raw)
        if words and words[0] in ("CMD", "CMD-SHELL"):
            words = words[1:] if words[0] == "CMD" else shlex.split(" ".join(words[1:]))
        if words[:2] == ["sh", "-c"]:
            words = shlex.split(words[2])
        line: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", "||", ";"):
                if line:
                    lines.append(line)
                line = []
            else:
                line.append(word)
    return lines


def _cli_accepts(words: list[str]) -> None:
    """Walk the `baskets` click tree: each sub-command and option must exist."""
    command: Any = typer.main.get_command(app)
    rest = words[1:]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        assert rest[0] in command.commands, f"`baskets {' '.join(rest)}`: no such command"
        command = command.commands[rest[0]]
        rest = rest[1:]
    assert not hasattr(command, "commands"), f"`{' '.join(words)}` names a group"
    options = {name for param in command.params for name in getattr(param, "opts", [])}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"`{' '.join(words)}`: unknown option {word}"


def test_services_health_checks_and_volumes(compose: dict[str, Any]) -> None:
    """api, worker, reconciler, postgres and redis, each with a health check; the data of
    postgres and redis lives in named volumes; the app waits for healthy stores."""
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert set(compose["volumes"]) == {"postgres-data", "redis-data"}
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    for name in ("api", "worker", "reconciler"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == (
            "service_healthy")
        assert services[name]["environment"]["BASKETS_BROKER_URL"].startswith("redis://redis:")


def test_every_baskets_variable_is_a_setting(compose: dict[str, Any]) -> None:
    """Each BASKETS_* variable of the recipe is a field of Settings (no typo goes unseen)."""
    fields = {f"BASKETS_{name.upper()}" for name in Settings.model_fields}
    named = {key for service in compose["services"].values()
             for key in (service.get("environment") or {}) if key.startswith("BASKETS_")}
    assert named >= {"BASKETS_DATABASE_URL", "BASKETS_SECRET_KEY", "BASKETS_BROKER_URL"}
    assert named - fields == set()


@pytest.fixture
def settings_cache_cleared() -> Iterator[None]:
    """Settings read from the environment this test sets, forgotten afterwards."""
    from baskets.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("settings_cache_cleared")
def test_every_command_exists_in_the_cli(compose: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The `baskets ...` command lines of the services and health checks are real commands
    with real options; uvicorn serves the real ASGI module (which, like production, refuses
    the demo key: the compose file requires BASKETS_SECRET_KEY)."""
    monkeypatch.setenv("BASKETS_SECRET_KEY", "compose-test-secret-key-0123456789-abcdef")
    seen = 0
    for service in compose["services"].values():
        for words in _commands(service):
            if words[0] == "baskets":
                _cli_accepts(words)
                seen += 1
            elif words[0] == "uvicorn":
                module, attribute = words[1].split(":")
                assert attribute in vars(__import__(module, fromlist=[attribute]))
    assert seen >= 4  # db upgrade, worker, jobs reconcile, jobs check


def test_image_recipe() -> None:
    """The Dockerfile installs the package; .dockerignore keeps the venv and secrets out."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile
    assert "USER " in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "var"} <= set(ignored)
