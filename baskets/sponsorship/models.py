"""Skills-sponsorship offers of companies, and the projects (with needs) of associations."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from baskets.db import Base, IdMixin


class Offer(IdMixin, Base):
    __tablename__ = "offers"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hours: Mapped[float]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    on_site: Mapped[bool] = mapped_column(default=True)
    remote_ok: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float]
    lon: Mapped[float]
    max_km: Mapped[float]
    min_chunk_hours: Mapped[float] = mapped_column(default=1.0)


class Project(IdMixin, Base):
    __tablename__ = "projects"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    neighbourhood_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("neighbourhoods.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    remote_ok: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    lat: Mapped[float]
    lon: Mapped[float]
    needs: Mapped[list[ProjectNeed]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ProjectNeed.position",
    )


class ProjectNeed(IdMixin, Base):
    __tablename__ = "project_needs"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    skill: Mapped[str] = mapped_column(String(64))
    min_level: Mapped[int]
    hours: Mapped[float]
    project: Mapped[Project] = relationship(back_populates="needs", lazy="raise")
