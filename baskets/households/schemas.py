"""Households: the association's full view and the coordinators' pseudonymous one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from baskets.common.schemas import InModel, OutModel, Phone
from baskets.households.models import ReferralReason
from baskets.supply.models import Category

Reference = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", examples=["AMP-FV-0042"])
]
Adults = Annotated[int, Field(ge=1, le=20)]
Count = Annotated[int, Field(ge=0, le=20)]


class HouseholdIn(InModel):
    reference: Reference
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    phone: Phone | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    adults: Adults
    children: Count = 0
    infants: Count = 0
    neighbourhood_id: uuid.UUID
    distribution_point_id: uuid.UUID
    excluded_products: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    excluded_categories: list[Category] = Field(default_factory=list, max_length=10)
    referral_reason: ReferralReason
    valid_until: date
    consent_date: date
    last_contact_date: date


class HouseholdPatch(InModel):
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    phone: Phone | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    adults: Adults | None = None
    children: Count | None = None
    infants: Count | None = None
    neighbourhood_id: uuid.UUID | None = None
    distribution_point_id: uuid.UUID | None = None
    excluded_products: list[uuid.UUID] | None = Field(default=None, max_length=100)
    excluded_categories: list[Category] | None = Field(default=None, max_length=10)
    referral_reason: ReferralReason | None = None
    valid_until: date | None = None
    last_contact_date: date | None = None


class HouseholdOut(OutModel):
    id: uuid.UUID
    reference: str
    contact_name: str | None
    phone: str | None
    address: str | None
    adults: int
    children: int
    infants: int
    neighbourhood_id: uuid.UUID
    distribution_point_id: uuid.UUID
    excluded_products: list[uuid.UUID]
    excluded_categories: list[Category]
    referral_reason: ReferralReason
    valid_until: date
    consent_date: date
    last_contact_date: date
    archived_at: datetime | None
    consumption_units: float


class HouseholdPseudoOut(OutModel):
    """What allocation needs, and nothing that identifies anyone."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    adults: int
    children: int
    infants: int
    consumption_units: float
    neighbourhood_id: uuid.UUID
    distribution_point_id: uuid.UUID
    excluded_products: list[uuid.UUID]
    excluded_categories: list[Category]


class AuditOut(OutModel):
    id: uuid.UUID
    household_id: uuid.UUID
    user_id: uuid.UUID | None
    action: str
    fields: list[str]
    created_at: datetime
