"""Small helpers shared by the domain services."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect

from baskets.errors import InvalidInput


def apply_changes(record: Any, changes: BaseModel) -> list[str]:
    """Set the fields the client sent on `record`; return the names that really changed.

    A field sent as null that the record cannot hold empty is refused (422, naming the
    field) before anything changes, instead of failing in the database.
    """
    sent = changes.model_dump(exclude_unset=True)
    columns = inspect(type(record)).columns
    required = sorted(field for field, value in sent.items()
                      if value is None and field in columns and not columns[field].nullable)
    if required:
        raise InvalidInput(
            "Certaines valeurs ne peuvent pas être vides ; rien n'a été enregistré.",
            "Some values cannot be empty; nothing was saved.",
            [{"field": field, "message": "Ce champ ne peut pas être vide (null)."}
             for field in required])
    changed: list[str] = []
    for field, value in sent.items():
        if getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)
    return sorted(changed)
