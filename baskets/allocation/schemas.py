"""What the allocation serves to coordinators and to associations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from baskets.common.schemas import InModel, OutModel


class AllocateIn(InModel):
    time_limit: Annotated[float, Field(gt=0, le=600)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class NeighbourhoodCoverage(OutModel):
    neighbourhood_id: uuid.UUID
    name: str
    households: int
    kg: float
    min_coverage: float
    mean_coverage: float


class BindingOut(OutModel):
    rule: str
    message: str
    limit_coverage: float | None = None
    missing_kg: float | None = None
    subject: str | None = None


class AllocationOut(OutModel):
    id: uuid.UUID
    week_id: uuid.UUID
    solver_status: str
    created_at: datetime
    wall_seconds: float
    metrics: dict[str, Any]
    binding: list[BindingOut]
    unallocated: list[dict[str, Any]]
    neighbourhoods: list[NeighbourhoodCoverage]


class BasketItemOut(OutModel):
    lot_id: uuid.UUID
    product_id: uuid.UUID
    product: str
    kg: float
    pieces: int | None


class BasketOut(OutModel):
    id: uuid.UUID
    household_id: uuid.UUID
    household_reference: str | None
    distribution_point_id: uuid.UUID
    consumption_units: float
    kg: float
    need_kg: float
    coverage: float
    items: list[BasketItemOut]
    collected: bool | None


class PackingLine(OutModel):
    product_id: uuid.UUID
    product: str
    category: str
    kg: float = Field(description="rounded to 0.1 kg (pieces × unit weight when by the piece)")
    pieces: int | None
    baskets: int = Field(description="baskets it goes into")
    too_small: bool = Field(description="fewer 0.1 kg steps than baskets: handed out loose")


class SizeLineOut(OutModel):
    product: str
    kg_min: float
    kg_max: float
    pieces_min: int | None
    pieces_max: int | None
    baskets: int


class SizeGroupOut(OutModel):
    size: str
    baskets: int
    lines: list[SizeLineOut]


class PackingListOut(OutModel):
    week_id: uuid.UUID
    distribution_point_id: uuid.UUID
    point_name: str
    baskets: int
    kg: float
    baskets_by_size: dict[str, int]
    sizes: list[SizeGroupOut]
    lines: list[PackingLine]


class CollectedIn(InModel):
    collected: bool
