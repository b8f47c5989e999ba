"""Distribution weeks and their allocation policy."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from baskets.common.schemas import InModel, OutModel
from baskets.supply.models import Category
from baskets.weeks.models import WeekStatus

Share = Annotated[float, Field(ge=0, le=1)]


class Policy(InModel):
    kg_per_consumption_unit: Annotated[float, Field(gt=0, le=50)] = 4.0
    max_coverage: Annotated[float, Field(ge=1, le=5)] = 1.25
    min_category_share: dict[Category, Share] = Field(
        default_factory=lambda: {Category.vegetable: 0.4}
    )
    max_product_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    # Last allocated week's shortfall raises a household's target this week (up to
    # max_coverage), so the same households are not short twice in a row.
    carry_over: bool = False

    @model_validator(mode="after")
    def _shares_possible(self) -> Self:
        if sum(self.min_category_share.values()) > 1:
            raise ValueError(
                "Les parts minimales par catégorie dépassent 100 % | "
                "Minimum category shares add up to more than 100%"
            )
        return self


class WeekIn(InModel):
    starts_on: date = Field(examples=["2026-11-23"])
    policy: Policy = Field(default_factory=Policy)

    @field_validator("starts_on")
    @classmethod
    def _monday(cls, value: date) -> date:
        if value.weekday() != 0:
            raise ValueError(
                "Une semaine de distribution commence un lundi | "
                "A distribution week starts on a Monday"
            )
        return value


class WeekPatch(InModel):
    policy: Policy


class WeekOut(OutModel):
    id: uuid.UUID
    starts_on: date
    status: WeekStatus
    policy: dict[str, object]
