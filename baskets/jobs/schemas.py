"""Jobs as the API serves them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from baskets.common.schemas import OutModel
from baskets.jobs.models import JobStatus


class JobOut(OutModel):
    id: uuid.UUID
    kind: str
    params: dict[str, Any]
    status: JobStatus
    progress: int
    message: str
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: uuid.UUID | None
    url: str


class SubmittedOut(OutModel):
    job: JobOut
    url: str
