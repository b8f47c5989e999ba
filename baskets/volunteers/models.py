"""Volunteers (availability, vehicle, home area, skills) and the team's own vehicles."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class VehicleKind(enum.StrEnum):
    none = "none"
    car = "car"
    van = "van"
    cargo_bike = "cargo_bike"


def _kind() -> Enum:
    return Enum(VehicleKind, native_enum=False, length=32, validate_strings=True)


class Volunteer(IdMixin, Base):
    __tablename__ = "volunteers"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    home_area: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    vehicle_kind: Mapped[VehicleKind] = mapped_column(_kind(), default=VehicleKind.none)
    capacity_kg: Mapped[float] = mapped_column(default=0.0)
    refrigerated: Mapped[bool] = mapped_column(default=False)
    hours_per_month: Mapped[float] = mapped_column(default=0.0)
    max_rounds_per_month: Mapped[int] = mapped_column(default=4)
    # {"skill": level 1-5}
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}]
    availability: Mapped[list[Any]] = mapped_column(default=list)
    remote_ok: Mapped[bool] = mapped_column(default=False)
    max_km: Mapped[float] = mapped_column(default=10.0)


class Vehicle(IdMixin, Base):
    """A vehicle of the food-project team (volunteers' cars live on Volunteer)."""

    __tablename__ = "vehicles"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[VehicleKind] = mapped_column(_kind(), default=VehicleKind.van)
    capacity_kg: Mapped[float]
    refrigerated: Mapped[bool] = mapped_column(default=False)
    depot_lat: Mapped[float]
    depot_lon: Mapped[float]
    shift_start: Mapped[str] = mapped_column(String(5))
    shift_end: Mapped[str] = mapped_column(String(5))
    max_duration_min: Mapped[int]
