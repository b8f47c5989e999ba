"""Farmers, products and supply lots."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from baskets.accounts.schemas import Siret
from baskets.common.schemas import InModel, Latitude, Longitude, Name, OutModel, Phone
from baskets.supply.models import Category

Address = Annotated[str, Field(min_length=3, max_length=300)]


class FarmerIn(InModel):
    name: Name
    siret: Siret
    address: Address
    lat: Latitude
    lon: Longitude
    contact_phone: Phone | None = None


class FarmerPatch(InModel):
    name: Name | None = None
    siret: Siret | None = None
    address: Address | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    contact_phone: Phone | None = None


class FarmerOut(OutModel):
    id: uuid.UUID
    name: str
    siret: str
    address: str
    lat: float
    lon: float
    contact_phone: str | None = None


class ProductIn(InModel):
    name: Annotated[str, Field(min_length=1, max_length=120, examples=["Poireaux"])]
    category: Category
    unit_kg: Annotated[float, Field(gt=0, le=50)] | None = None
    shelf_life_days: Annotated[int, Field(ge=1, le=365)]


class ProductPatch(InModel):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    category: Category | None = None
    unit_kg: Annotated[float, Field(gt=0, le=50)] | None = None
    shelf_life_days: Annotated[int, Field(ge=1, le=365)] | None = None


class ProductOut(OutModel):
    id: uuid.UUID
    name: str
    category: Category
    unit_kg: float | None
    shelf_life_days: int


class LotIn(InModel):
    farmer_id: uuid.UUID
    product_id: uuid.UUID
    quantity_kg: Annotated[float, Field(gt=0, le=100_000, examples=[120.0])]
    units: Annotated[int, Field(gt=0)] | None = None
    harvest_date: date
    pickup_start: AwareDatetime
    pickup_end: AwareDatetime
    price_per_kg: Annotated[float, Field(ge=0, le=1_000, examples=[1.8])]

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.pickup_end <= self.pickup_start:
            raise ValueError(
                "La fin du créneau d'enlèvement doit suivre son début | "
                "The pick-up window must end after it starts"
            )
        return self


class LotPatch(InModel):
    quantity_kg: Annotated[float, Field(gt=0, le=100_000)] | None = None
    units: Annotated[int, Field(gt=0)] | None = None
    harvest_date: date | None = None
    pickup_start: AwareDatetime | None = None
    pickup_end: AwareDatetime | None = None
    price_per_kg: Annotated[float, Field(ge=0, le=1_000)] | None = None


class LotOut(OutModel):
    id: uuid.UUID
    week_id: uuid.UUID
    farmer_id: uuid.UUID
    product_id: uuid.UUID
    quantity_kg: float
    units: int | None
    harvest_date: date
    pickup_start: datetime
    pickup_end: datetime
    price_per_kg: float
