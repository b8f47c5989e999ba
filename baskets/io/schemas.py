"""Schemas of imports, duplicates and the data-protection rights."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from baskets.accounts.schemas import Email
from baskets.common.schemas import Name, OutModel
from baskets.volunteers.schemas import VolunteerProfile


class VolunteerRow(VolunteerProfile):
    """One row of a volunteers import: the profile plus who they are."""

    email: Email
    full_name: Name


class ProblemOut(BaseModel):
    row: int | None
    column: str | None
    field: str | None
    message: str


class ImportReportOut(BaseModel):
    kind: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    written: bool
    problems: list[ProblemOut]
    possible_duplicates: list[str]


class DuplicateOut(OutModel):
    """One of my households that may also be followed by another association; nothing else."""

    id: uuid.UUID
    reference: str


class OrganisationRef(OutModel):
    id: uuid.UUID
    name: str


class DuplicatePairOut(BaseModel):
    first: OrganisationRef
    second: OrganisationRef
    households: int


class HouseholdExportOut(BaseModel):
    """Everything held about one household (right of access and portability)."""

    exported_at: datetime
    household: dict[str, Any]
    organisation: OrganisationRef
    neighbourhood: dict[str, Any]
    distribution_point: dict[str, Any]
    excluded_product_names: list[str]
    duplicate_fingerprint_stored: bool
    audit: list[dict[str, Any]]


class ErasedHousehold(BaseModel):
    household_id: uuid.UUID
    organisation_id: uuid.UUID
    last_contact_date: date


class RetentionOut(BaseModel):
    dry_run: bool
    cutoff: date
    months: int
    erased: int
    households: list[ErasedHousehold]
