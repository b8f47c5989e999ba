"""Households registered by an association, and the audit trail of every write."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin, utcnow


class ReferralReason(enum.StrEnum):
    job_loss = "job_loss"
    single_parent = "single_parent"
    student = "student"
    retired_low_income = "retired_low_income"
    health = "health"
    housing = "housing"
    other = "other"


class Household(IdMixin, Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    adults: Mapped[int]
    children: Mapped[int] = mapped_column(default=0)
    infants: Mapped[int] = mapped_column(default=0)
    neighbourhood_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("neighbourhoods.id"), index=True)
    distribution_point_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("distribution_points.id"), index=True
    )
    excluded_products: Mapped[list[Any]] = mapped_column(default=list)
    excluded_categories: Mapped[list[Any]] = mapped_column(default=list)
    referral_reason: Mapped[ReferralReason] = mapped_column(
        Enum(ReferralReason, native_enum=False, length=32, validate_strings=True)
    )
    valid_until: Mapped[date]
    consent_date: Mapped[date]
    last_contact_date: Mapped[date]
    archived_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HouseholdAudit(IdMixin, Base):
    """Who changed which fields of a household, and when; never the values."""

    __tablename__ = "household_audit"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    household_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list[Any]] = mapped_column(default=list)
