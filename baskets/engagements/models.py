"""A matching run's stored result, the engagements it proposes, and the hours logged on them."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class EngagementStatus(enum.StrEnum):
    proposed = "proposed"
    accepted = "accepted"
    declined = "declined"
    in_progress = "in_progress"
    completed = "completed"


class Decision(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class MatchingRun(IdMixin, Base):
    """One solve of the territory's projects against its offers and volunteers."""

    __tablename__ = "matching_runs"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The job that stored it: a second run of the same job finds it and stores nothing.
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     unique=True)
    solver_status: Mapped[str] = mapped_column(String(16))
    time_limit: Mapped[float]
    seed: Mapped[int]
    wall_seconds: Mapped[float]
    worst_share: Mapped[float]
    hours_covered: Mapped[float]
    hours_needed: Mapped[float]
    metrics: Mapped[dict[str, Any]]
    # [{"engagement_id", "provider", "provider_kind", "project_id", "project", "need_id",
    #   "skill", "hours", "fixed", "reasons": [{"code", "fr", "en"}]}]
    assignments: Mapped[list[Any]]
    # [{"project_id", "project", "need_id", "skill", "hours", "reasons": [{"code", "fr", "en"}]}]
    uncovered: Mapped[list[Any]]


class Engagement(IdMixin, Base):
    """Hours of one provider (a company's offer or a volunteer) for one need of a project."""

    __tablename__ = "engagements"

    # The food team whose matching run proposed it (coordinators' scope).
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("matching_runs.id", ondelete="SET NULL"), index=True
    )
    offer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offers.id"), index=True)
    volunteer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("volunteers.id"), index=True
    )
    # The company behind the offer (None for a volunteer): the provider side's organisation.
    provider_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id"), index=True)
    project_organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    # Needs are replaced when a project is edited: the engagement keeps its skill.
    need_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("project_needs.id", ondelete="SET NULL")
    )
    skill: Mapped[str] = mapped_column(String(64))
    hours: Mapped[float]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    distance_km: Mapped[float]
    remote: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list[Any]]
    status: Mapped[EngagementStatus] = mapped_column(
        _enum(EngagementStatus), default=EngagementStatus.proposed
    )
    provider_decision: Mapped[Decision] = mapped_column(_enum(Decision), default=Decision.pending)
    project_decision: Mapped[Decision] = mapped_column(_enum(Decision), default=Decision.pending)
    provider_decided_at: Mapped[datetime | None]
    project_decided_at: Mapped[datetime | None]


class HoursLog(IdMixin, Base):
    """Hours a provider says were given on a day; they count once the project approves them."""

    __tablename__ = "engagement_hours"

    engagement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), index=True
    )
    logged_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    worked_on: Mapped[date]
    hours: Mapped[float]
    note: Mapped[str] = mapped_column(String(500), default="")
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
