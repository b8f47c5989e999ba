"""Reading solver scenario files: one error type with a precise message, exit code 2 at the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A scenario file that cannot be solved as written (the message says where and why)."""


def read_json_file(path: Path) -> Any:
    """Return the parsed JSON of `path`, or raise ScenarioError saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
