"""Matching runs, engagements and logged hours: inputs and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field

from baskets.common.schemas import InModel, OutModel
from baskets.engagements.models import Decision, EngagementStatus


class MatchingRunIn(InModel):
    time_limit: Annotated[float, Field(gt=0, le=600)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class AssignmentOut(OutModel):
    engagement_id: uuid.UUID
    provider: str
    provider_kind: str
    project_id: uuid.UUID
    project: str
    need_id: uuid.UUID
    skill: str
    hours: float
    fixed: bool
    reasons: list[str]


class UncoveredOut(OutModel):
    project_id: uuid.UUID
    project: str
    need_id: uuid.UUID
    skill: str
    hours: float
    reasons: list[str]


class MatchingRunOut(OutModel):
    id: uuid.UUID
    created_at: datetime
    solver_status: str
    time_limit: float
    seed: int
    wall_seconds: float
    worst_share: float
    hours_covered: float
    hours_needed: float
    metrics: dict[str, Any]
    assignments: list[AssignmentOut]
    uncovered: list[UncoveredOut]


class HoursIn(InModel):
    worked_on: date
    hours: Annotated[float, Field(gt=0, le=24)]
    note: Annotated[str, Field(max_length=500)] = ""


class HoursLogOut(OutModel):
    id: uuid.UUID
    worked_on: date
    hours: float
    note: str
    approved: bool


class EngagementOut(OutModel):
    id: uuid.UUID
    run_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    volunteer_id: uuid.UUID | None
    provider: str
    provider_kind: str
    project_id: uuid.UUID
    project: str
    neighbourhood_id: uuid.UUID
    need_id: uuid.UUID | None
    skill: str
    hours: float
    starts_on: date
    ends_on: date
    distance_km: float
    remote: bool
    reasons: list[str]
    status: EngagementStatus
    provider_decision: Decision
    project_decision: Decision
    hours_logged: float
    hours_approved: float
    logs: list[HoursLogOut]


class ReportLineOut(OutModel):
    project_id: uuid.UUID
    project: str
    neighbourhood: str
    hours_engaged: float
    hours_logged: float
    hours_approved: float
    value: float | None
    tax_reduction: float | None


class CompanyReportOut(OutModel):
    company: str
    hourly_cost: float | None
    agreement_hours: float | None
    tax_reduction_rate: float
    lines: list[ReportLineOut]
    hours_engaged: float
    hours_logged: float
    hours_approved: float
    value: float | None
    tax_reduction: float | None
