"""Distribution weeks: draft -> allocated -> planned -> published -> done."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class WeekStatus(enum.StrEnum):
    draft = "draft"
    allocated = "allocated"
    planned = "planned"
    published = "published"
    done = "done"


DEFAULT_POLICY: dict[str, Any] = {
    "kg_per_consumption_unit": 4.0,
    "max_coverage": 1.25,
    "min_category_share": {"vegetable": 0.4},
    "max_product_share": 0.5,
}


class Week(IdMixin, Base):
    __tablename__ = "weeks"
    __table_args__ = (UniqueConstraint("organisation_id", "starts_on"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    starts_on: Mapped[date]
    status: Mapped[WeekStatus] = mapped_column(
        Enum(WeekStatus, native_enum=False, length=32, validate_strings=True),
        default=WeekStatus.draft,
    )
    policy: Mapped[dict[str, Any]] = mapped_column(default=lambda: dict(DEFAULT_POLICY))
