"""The weekly report as the API serves it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from baskets.common.schemas import OutModel


class FigureOut(OutModel):
    key: str
    label: str
    value: float | int | None
    unit: str


class ColumnOut(OutModel):
    key: str
    title: str
    unit: str


class ChartOut(OutModel):
    label: str
    value: str
    orientation: str


class SectionOut(OutModel):
    key: str
    title: str
    available: bool
    note: str
    figures: list[FigureOut]
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    chart: ChartOut | None


class ReportOut(OutModel):
    week_id: uuid.UUID
    starts_on: date
    status: str
    generated_at: datetime
    allocated: bool
    sections: list[SectionOut]
