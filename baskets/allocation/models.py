"""A week's stored allocation and its baskets (one per household)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class Allocation(IdMixin, Base):
    """The current allocation of a week; re-running replaces it (and its baskets) whole."""

    __tablename__ = "allocations"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    week_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("weeks.id", ondelete="CASCADE"), unique=True
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The job that stored it: a second run of the same job finds it and stores nothing.
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     unique=True)
    solver_status: Mapped[str] = mapped_column(String(16))
    time_limit: Mapped[float]
    seed: Mapped[int]
    wall_seconds: Mapped[float]
    metrics: Mapped[dict[str, Any]]
    # [{"rule", "message", "message_fr", "limit_coverage", "missing_kg", "subject"}]
    binding: Mapped[list[Any]]
    # [{"lot_id", "product_id", "kg"}]
    unallocated: Mapped[list[Any]]


class AllocatedBasket(IdMixin, Base):
    """One household's basket; owned (for reading) by the household's association."""

    __tablename__ = "allocated_baskets"

    allocation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("allocations.id", ondelete="CASCADE"), index=True
    )
    week_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("weeks.id", ondelete="CASCADE"),
                                               index=True)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    distribution_point_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("distribution_points.id"), index=True
    )
    neighbourhood_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("neighbourhoods.id"))
    consumption_units: Mapped[float]
    kg: Mapped[float]
    need_kg: Mapped[float]
    coverage: Mapped[float]
    # [{"lot_id", "product_id", "kg", "pieces"}]
    items: Mapped[list[Any]]
    collected: Mapped[bool | None]
    collected_at: Mapped[datetime | None]
