"""Territories, neighbourhoods and distribution points."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from baskets.common.schemas import InModel, Latitude, Longitude, Name, OpeningSlot, OutModel, Phone


class TerritoryIn(InModel):
    code: Annotated[str, Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Name


class TerritoryOut(OutModel):
    id: uuid.UUID
    code: str
    name: str


class NeighbourhoodIn(InModel):
    territory_id: uuid.UUID
    name: Name
    qpv_code: Annotated[str, Field(pattern=r"^QN\d{5,8}[A-Z]?$", examples=["QN01306M"])]
    lat: Latitude
    lon: Longitude


class NeighbourhoodOut(OutModel):
    id: uuid.UUID
    territory_id: uuid.UUID
    name: str
    qpv_code: str
    lat: float
    lon: float


class DistributionPointIn(InModel):
    neighbourhood_id: uuid.UUID
    name: Name
    address: Annotated[str, Field(min_length=3, max_length=300)]
    lat: Latitude
    lon: Longitude
    opening_hours: list[OpeningSlot] = Field(default_factory=list, max_length=50)
    capacity_kg: Annotated[float, Field(gt=0)] | None = None
    capacity_baskets: Annotated[int, Field(gt=0)] | None = None
    contact_phone: Phone | None = None


class DistributionPointPatch(InModel):
    name: Name | None = None
    address: Annotated[str, Field(min_length=3, max_length=300)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    opening_hours: list[OpeningSlot] | None = Field(default=None, max_length=50)
    capacity_kg: Annotated[float, Field(gt=0)] | None = None
    capacity_baskets: Annotated[int, Field(gt=0)] | None = None
    contact_phone: Phone | None = None


class DistributionPointOut(OutModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    neighbourhood_id: uuid.UUID
    name: str
    address: str
    lat: float
    lon: float
    opening_hours: list[OpeningSlot]
    capacity_kg: float | None
    capacity_baskets: int | None
    contact_phone: str | None = None
