"""Volunteers' profiles and the team's vehicles."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from baskets.accounts.schemas import Email, Password
from baskets.common.schemas import (
    HHMM,
    AvailabilitySlot,
    InModel,
    Latitude,
    Longitude,
    Name,
    OutModel,
    Skills,
)
from baskets.volunteers.models import VehicleKind

Capacity = Annotated[float, Field(ge=0, le=5_000)]


class VolunteerProfile(InModel):
    home_area: Annotated[str, Field(min_length=1, max_length=120, examples=["Marseille 13e"])]
    lat: Latitude
    lon: Longitude
    vehicle_kind: VehicleKind = VehicleKind.none
    capacity_kg: Capacity = 0.0
    refrigerated: bool = False
    hours_per_month: Annotated[float, Field(ge=0, le=200)] = 0.0
    max_rounds_per_month: Annotated[int, Field(ge=0, le=31)] = 4
    skills: Skills = Field(default_factory=dict)
    availability: list[AvailabilitySlot] = Field(default_factory=list, max_length=50)
    remote_ok: bool = False
    max_km: Annotated[float, Field(ge=0, le=500)] = 10.0


class VolunteerSignup(VolunteerProfile):
    territory_code: Annotated[str, Field(min_length=2, max_length=32, examples=["AMP"])]
    email: Email
    full_name: Name
    password: Password


class SignupOut(OutModel):
    message: str


class VolunteerOut(OutModel):
    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    home_area: str
    lat: float
    lon: float
    vehicle_kind: VehicleKind
    capacity_kg: float
    refrigerated: bool
    hours_per_month: float
    max_rounds_per_month: int
    skills: dict[str, int]
    availability: list[AvailabilitySlot]
    remote_ok: bool
    max_km: float


class VehicleIn(InModel):
    name: Name
    kind: VehicleKind = VehicleKind.van
    capacity_kg: Annotated[float, Field(gt=0, le=5_000)]
    refrigerated: bool = False
    depot_lat: Latitude
    depot_lon: Longitude
    shift_start: HHMM
    shift_end: HHMM
    max_duration_min: Annotated[int, Field(ge=15, le=24 * 60)]


class VehiclePatch(InModel):
    name: Name | None = None
    capacity_kg: Annotated[float, Field(gt=0, le=5_000)] | None = None
    refrigerated: bool | None = None
    depot_lat: Latitude | None = None
    depot_lon: Longitude | None = None
    shift_start: HHMM | None = None
    shift_end: HHMM | None = None
    max_duration_min: Annotated[int, Field(ge=15, le=24 * 60)] | None = None


class VehicleOut(OutModel):
    id: uuid.UUID
    name: str
    kind: VehicleKind
    capacity_kg: float
    refrigerated: bool
    depot_lat: float
    depot_lon: float
    shift_start: str
    shift_end: str
    max_duration_min: int
