"""Keyed fingerprints of households, to flag possible duplicates across associations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin, utcnow


class HouseholdFingerprint(Base):
    """HMAC of a household's normalised contact name and phone; never the fields themselves.

    `digest` is None when the household lacks a name or a phone (nothing to compare).
    `computed_at` lets a lazy refresh find households changed since (their updated_at).
    """

    __tablename__ = "household_fingerprints"

    household_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DuplicateLookup(IdMixin, Base):
    """One duplicate lookup (the duplicates list, a household import): who asked, how many
    households were checked and flagged; never which ones. Lookups are also rate-limited,
    so nobody can test names against another association's files unnoticed."""

    __tablename__ = "duplicate_lookups"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    households: Mapped[int]
    flagged: Mapped[int]
