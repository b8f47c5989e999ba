"""Small helpers shared by the domain services."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def apply_changes(record: Any, changes: BaseModel) -> list[str]:
    """Set the fields the client sent on `record`; return the names that really changed."""
    changed: list[str] = []
    for field, value in changes.model_dump(exclude_unset=True).items():
        if getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)
    return sorted(changed)
