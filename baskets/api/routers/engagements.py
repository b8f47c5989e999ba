"""Matching runs (coordinators), engagements (each side), logged hours and companies' report."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response

from baskets.api.deps import ActorDep, LocaleDep, PageDep, SessionDep, SettingsDep
from baskets.api.routers.jobs import submitted
from baskets.common.pagination import Page, paginate
from baskets.engagements import service, tasks
from baskets.engagements.schemas import (
    CompanyReportOut,
    EngagementOut,
    HoursIn,
    HoursLogOut,
    MatchingRunIn,
    MatchingRunOut,
)
from baskets.io import export
from baskets.jobs.schemas import SubmittedOut

router = APIRouter(tags=["matching and engagements"])


@router.post("/matching/runs", response_model=SubmittedOut, status_code=202,
             summary="Apparier projets et heures (tâche) / start matching projects with hours")
def run_matching(actor: ActorDep, session: SessionDep, settings: SettingsDep, response: Response,
                 options: MatchingRunIn = Body(default_factory=MatchingRunIn)) -> Any:
    job = tasks.start_matching(
        session, actor=actor,
        time_limit=options.time_limit or settings.solver_time_limit_seconds,
        seed=settings.solver_seed if options.seed is None else options.seed,
    )
    return submitted(job, response)


@router.get("/matching/runs/{run_id}", response_model=MatchingRunOut)
def get_run(run_id: uuid.UUID, actor: ActorDep, session: SessionDep, locale: LocaleDep) -> Any:
    return service.run_out(service.get_run(session, actor=actor, run_id=run_id), locale)


@router.get("/engagements", response_model=Page[EngagementOut])
def list_engagements(actor: ActorDep, session: SessionDep, page: PageDep,
                     locale: LocaleDep) -> dict[str, Any]:
    return paginate(session, service.engagements_query(session, actor), limit=page.limit,
                    offset=page.offset,
                    to_item=lambda e: service.engagement_out(session, e, locale))


@router.get("/engagements/{engagement_id}", response_model=EngagementOut)
def get_engagement(engagement_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                   locale: LocaleDep) -> Any:
    engagement = service.get_engagement(session, actor=actor, engagement_id=engagement_id)
    return service.engagement_out(session, engagement, locale)


@router.post("/engagements/{engagement_id}/accept", response_model=EngagementOut)
def accept(engagement_id: uuid.UUID, actor: ActorDep, session: SessionDep,
           locale: LocaleDep) -> Any:
    engagement = service.decide(session, actor=actor, engagement_id=engagement_id, accept=True)
    return service.engagement_out(session, engagement, locale)


@router.post("/engagements/{engagement_id}/decline", response_model=EngagementOut)
def decline(engagement_id: uuid.UUID, actor: ActorDep, session: SessionDep,
            locale: LocaleDep) -> Any:
    engagement = service.decide(session, actor=actor, engagement_id=engagement_id, accept=False)
    return service.engagement_out(session, engagement, locale)


@router.post("/engagements/{engagement_id}/hours", response_model=HoursLogOut, status_code=201)
def log_hours(engagement_id: uuid.UUID, data: HoursIn, actor: ActorDep,
              session: SessionDep) -> Any:
    log = service.log_hours(session, actor=actor, engagement_id=engagement_id, data=data)
    return HoursLogOut(id=log.id, worked_on=log.worked_on, hours=log.hours, note=log.note,
                       approved=False)


@router.post("/engagements/{engagement_id}/hours/{log_id}/approve", response_model=HoursLogOut)
def approve_hours(engagement_id: uuid.UUID, log_id: uuid.UUID, actor: ActorDep,
                  session: SessionDep) -> Any:
    log = service.approve_hours(session, actor=actor, engagement_id=engagement_id,
                                log_id=log_id)
    return HoursLogOut(id=log.id, worked_on=log.worked_on, hours=log.hours, note=log.note,
                       approved=True)


@router.get("/projects/{project_id}/engagements", response_model=list[EngagementOut])
def project_engagements(project_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                        locale: LocaleDep) -> Any:
    return service.project_engagements(session, actor=actor, project_id=project_id,
                                       locale=locale)


@router.get("/companies/me/report", response_model=CompanyReportOut)
def company_report(actor: ActorDep, session: SessionDep) -> Any:
    return service.company_report(session, actor=actor)


def _report_file(session: Any, actor: Any, fmt: export.Format) -> Response:
    table = service.hours_given_table(session, actor=actor)
    return Response(content=export.render(table, fmt), media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition":
                             f'attachment; filename="{export.filename(table, fmt)}"'})


@router.get("/companies/me/report.csv", response_class=Response)
def company_report_csv(actor: ActorDep, session: SessionDep) -> Response:
    """Hours given, as CSV (semicolons, decimal commas, formulas escaped)."""
    return _report_file(session, actor, "csv")


@router.get("/companies/me/report.xlsx", response_class=Response)
def company_report_xlsx(actor: ActorDep, session: SessionDep) -> Response:
    """Hours given, as XLSX (formulas escaped)."""
    return _report_file(session, actor, "xlsx")
