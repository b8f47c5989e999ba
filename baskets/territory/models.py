"""Territories, priority neighbourhoods (QPV) and distribution points."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class Territory(IdMixin, Base):
    __tablename__ = "territories"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Neighbourhood(IdMixin, Base):
    __tablename__ = "neighbourhoods"

    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territories.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qpv_code: Mapped[str] = mapped_column(String(16), unique=True)
    lat: Mapped[float]
    lon: Mapped[float]


class DistributionPoint(IdMixin, Base):
    __tablename__ = "distribution_points"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    neighbourhood_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("neighbourhoods.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    # [{"weekday": 0-6, "opens": "HH:MM", "closes": "HH:MM"}]
    opening_hours: Mapped[list[Any]] = mapped_column(default=list)
    capacity_kg: Mapped[float | None]
    capacity_baskets: Mapped[int | None]
    # Whom a driver calls on arrival (the point's desk, not a person's own number).
    contact_phone: Mapped[str | None] = mapped_column(String(32))
