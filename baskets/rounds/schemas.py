"""Rounds as the API serves them: plans, rounds, stops, sheets, drivers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field

from baskets.common.schemas import InModel, OutModel


class PlanIn(InModel):
    time_limit: Annotated[float, Field(gt=0, le=600)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class ReplanIn(PlanIn):
    vehicle: Annotated[str, Field(min_length=3, max_length=64,
                                  description='"van:<vehicle id>" or "car:<volunteer id>"')]


class StopDoneIn(InModel):
    note: Annotated[str, Field(max_length=1000)] | None = None


class StopProblemIn(InModel):
    note: Annotated[str, Field(min_length=2, max_length=1000)]


class Pair(InModel):
    round_id: uuid.UUID
    volunteer_id: uuid.UUID


class DriversIn(InModel):
    pins: list[Pair] = Field(default_factory=list, max_length=500)
    excludes: list[Pair] = Field(default_factory=list, max_length=5000)
    time_limit: Annotated[float, Field(gt=0, le=120)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class ItemOut(OutModel):
    product: str
    kg: float


class StopOut(OutModel):
    id: uuid.UUID
    position: int
    kind: str
    farmer_id: uuid.UUID | None
    distribution_point_id: uuid.UUID | None
    name: str
    address: str
    lat: float
    lon: float
    arrival_at: datetime
    window_start: datetime
    window_end: datetime
    kg_loaded: float
    kg_delivered: float
    load_after_kg: float
    refrigerated: bool
    items: list[ItemOut]
    status: str
    done_at: datetime | None
    note: str | None


class SheetStopOut(StopOut):
    geo_uri: str


class RoundOut(OutModel):
    id: uuid.UUID
    week_id: uuid.UUID
    number: int
    day: str
    vehicle_ref: str
    vehicle_label: str
    capacity_kg: float
    refrigerated: bool
    driver_id: uuid.UUID | None
    driver_name: str | None
    status: str
    km: float
    duration_min: float
    starts_at: datetime
    ends_at: datetime
    peak_load_kg: float
    kg_handled: float
    start_lat: float
    start_lon: float
    stop_count: int
    distance_km: float | None = None


class RoundWithStopsOut(RoundOut):
    stops: list[StopOut]


class SheetOut(RoundOut):
    week_starts_on: date
    kg_to_load: float
    stops: list[SheetStopOut]


class UnservedOut(OutModel):
    ref: str
    kind: str
    name: str
    kg: float
    reason: str
    message: str
    farmer_id: uuid.UUID | None
    distribution_point_id: uuid.UUID | None


class PlanOut(OutModel):
    id: uuid.UUID
    week_id: uuid.UUID
    solver_status: str
    wall_seconds: float
    time_limit: float
    seed: int
    metrics: dict[str, Any]
    hub: list[float] | None
    rounds: list[RoundWithStopsOut]
    unserved: list[UnservedOut]


class ReasonOut(OutModel):
    code: str
    message: str


class AssignmentOut(OutModel):
    round_id: uuid.UUID
    volunteer_id: uuid.UUID
    detour_km: float
    pinned: bool
    reasons: list[ReasonOut]


class UnassignedOut(OutModel):
    round_id: uuid.UUID
    reasons: list[ReasonOut]


class DriversOut(OutModel):
    status: str
    metrics: dict[str, Any]
    assignments: list[AssignmentOut]
    unassigned: list[UnassignedOut]


class ReplacementOut(OutModel):
    volunteer_id: uuid.UUID
    full_name: str | None
    detour_km: float
    reasons: list[ReasonOut]
