"""Idempotency records: a POST replayed with the same key returns the stored response."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),
                      Index("ix_idempotency_keys_created_at", "created_at"))

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]]
    # The record the answer describes (its "id"): an erasure purges the stored answer.
    resource_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
