"""Jobs: list, read, follow (server-sent events) and cancel the organisation's jobs."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from baskets.api.deps import ActorDep, PageDep, SessionDep
from baskets.common.pagination import Page, paginate
from baskets.jobs import service
from baskets.jobs.models import TERMINAL, Job, JobStatus
from baskets.jobs.schemas import JobOut

router = APIRouter(tags=["jobs"])

# How often the event stream looks at the job (it reads the database, the source of truth).
POLL_SECONDS = 0.5


def submitted(job: Job, response: Response) -> dict[str, Any]:
    """The 202 answer of a request that started a job: the job, its URL (also `Location`)."""
    out = service.job_out(job)
    response.headers["Location"] = out["url"]
    return {"job": out, "url": out["url"]}


@router.get("/jobs", response_model=Page[JobOut],
            summary="Tâches de mon organisation / my organisation's jobs")
def list_jobs(actor: ActorDep, session: SessionDep, page: PageDep,
              status: JobStatus | None = None, kind: str | None = None) -> dict[str, Any]:
    return paginate(session, service.jobs_query(actor, status=status, kind=kind),
                    limit=page.limit, offset=page.offset, to_item=service.job_out)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.job_out(service.get_job(session, actor=actor, job_id=job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.job_out(service.cancel_job(session, actor=actor, job_id=job_id))


@router.get("/jobs/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}},
            summary="Progression en direct (SSE) / live progress (server-sent events)")
def job_events(
    job_id: uuid.UUID, request: Request, actor: ActorDep, session: SessionDep,
    follow_seconds: Annotated[float, Query(
        ge=0, le=3600, description="Longest the stream stays open; clients then reconnect.",
    )] = 600,
) -> StreamingResponse:
    service.get_job(session, actor=actor, job_id=job_id)  # 404 before the stream starts
    factory: sessionmaker[Session] = request.app.state.session_factory
    organisation_id = actor.organisation_id

    def snapshot() -> dict[str, Any] | None:
        with factory() as s:
            job = s.get(Job, job_id)
            if job is None or job.organisation_id != organisation_id:
                return None
            data: dict[str, Any] = JobOut.model_validate(service.job_out(job)).model_dump(
                mode="json")
            return data

    async def stream() -> AsyncIterator[str]:
        last: tuple[Any, ...] | None = None
        deadline = time.monotonic() + follow_seconds
        while True:
            data = await asyncio.to_thread(snapshot)
            if data is None:
                return
            key = (data["status"], data["progress"], data["message"])
            if key != last:
                last = key
                yield f"event: progress\ndata: {json.dumps(data)}\n\n"
            if data["status"] in {s.value for s in TERMINAL}:
                yield f"event: end\ndata: {json.dumps(data)}\n\n"
                return
            if time.monotonic() >= deadline or await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
