"""Paginated lists: one response shape, a capped limit, a stable order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T", bound=BaseModel)
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(
    session: Session,
    query: Select[Row],
    *,
    limit: int,
    offset: int,
    to_item: Callable[[Row], Any],
) -> dict[str, Any]:
    """Count the query, then fetch one page of it converted by `to_item`."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    items = [to_item(row) for row in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
