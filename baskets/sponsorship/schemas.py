"""Skills-sponsorship offers and neighbourhood projects with their needs."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import Field, model_validator

from baskets.common.schemas import InModel, Latitude, Longitude, Name, OutModel, Skills

Hours = Annotated[float, Field(gt=0, le=10_000)]
SkillName = Annotated[str, Field(min_length=1, max_length=64, examples=["accounting"])]


def _period_in_order(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError(
            "La fin de la période précède son début | The period ends before it starts"
        )


class OfferIn(InModel):
    title: Name
    skills: Skills = Field(min_length=1)
    hours: Hours
    starts_on: date
    ends_on: date
    on_site: bool = True
    remote_ok: bool = False
    lat: Latitude
    lon: Longitude
    max_km: Annotated[float, Field(ge=0, le=1_000)] = 15.0
    min_chunk_hours: Annotated[float, Field(gt=0, le=200)] = 2.0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _period_in_order(self.starts_on, self.ends_on)
        if self.min_chunk_hours > self.hours:
            raise ValueError(
                "Le créneau minimal dépasse les heures offertes | "
                "The minimum chunk exceeds the hours offered"
            )
        return self


class OfferPatch(InModel):
    title: Name | None = None
    skills: Skills | None = None
    hours: Hours | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    on_site: bool | None = None
    remote_ok: bool | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    max_km: Annotated[float, Field(ge=0, le=1_000)] | None = None
    min_chunk_hours: Annotated[float, Field(gt=0, le=200)] | None = None


class OfferOut(OutModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    skills: dict[str, int]
    hours: float
    starts_on: date
    ends_on: date
    on_site: bool
    remote_ok: bool
    lat: float
    lon: float
    max_km: float
    min_chunk_hours: float


class NeedIn(InModel):
    skill: SkillName
    min_level: Annotated[int, Field(ge=1, le=5)] = 1
    hours: Hours


class NeedOut(OutModel):
    id: uuid.UUID
    skill: str
    min_level: int
    hours: float


class ProjectIn(InModel):
    neighbourhood_id: uuid.UUID
    title: Name
    description: Annotated[str, Field(max_length=5_000)] = ""
    remote_ok: bool = False
    starts_on: date
    ends_on: date
    lat: Latitude
    lon: Longitude
    needs: list[NeedIn] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _period_in_order(self.starts_on, self.ends_on)
        return self


class ProjectPatch(InModel):
    title: Name | None = None
    description: Annotated[str, Field(max_length=5_000)] | None = None
    remote_ok: bool | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    needs: list[NeedIn] | None = Field(default=None, min_length=1, max_length=30)


class ProjectOut(OutModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    neighbourhood_id: uuid.UUID
    title: str
    description: str
    remote_ok: bool
    starts_on: date
    ends_on: date
    lat: float
    lon: float
    needs: list[NeedOut]
