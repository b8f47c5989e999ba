"""Matching pages: the coordinator runs it; companies, volunteers and associations answer the
proposed engagements, log and approve hours; companies read and download their report."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.api.deps import SessionDep, SettingsDep
from baskets.common.scope import Actor
from baskets.engagements import service, tasks
from baskets.engagements.models import Decision, EngagementStatus
from baskets.engagements.schemas import HoursIn
from baskets.errors import Conflict, DomainError, InvalidInput
from baskets.io import export
from baskets.web.core import (
    FormDep,
    PageActorDep,
    PageRoute,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.forms import FormInvalid, domain_errors, number, text, validate
from baskets.web.i18n import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATUS_NAMES = {
    EngagementStatus.proposed: N_("proposé"),
    EngagementStatus.accepted: N_("accepté"),
    EngagementStatus.declined: N_("décliné"),
    EngagementStatus.in_progress: N_("en cours"),
    EngagementStatus.completed: N_("terminé"),
}
DECISION_NAMES = {
    Decision.pending: N_("en attente"),
    Decision.accepted: N_("accepté"),
    Decision.declined: N_("décliné"),
}


def _side(actor: Actor) -> str | None:
    if actor.role in (Role.company, Role.volunteer):
        return "provider"
    if actor.role is Role.association:
        return "project"
    return None


def _engagements_page(request: Request, session: Session, actor: Actor, *,
                      form_error: str | None = None, errors: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    t = translator_for(request)
    side = _side(actor)
    rows = list(session.scalars(service.engagements_query(session, actor)))
    names = service.provider_names(session, rows)
    items = [service.engagement_out(session, e, t.locale, names) for e in rows]
    mine = f"{side}_decision" if side else None
    to_answer = [e for e in items if mine and e["status"] is EngagementStatus.proposed
                 and e[mine] is Decision.pending]
    answered = {id(e) for e in to_answer}
    active = [e for e in items if id(e) not in answered and e["status"] in (
        EngagementStatus.proposed, EngagementStatus.accepted, EngagementStatus.in_progress)]
    closed = [e for e in items if e["status"] in (EngagementStatus.completed,
                                                  EngagementStatus.declined)]
    return render(request, "engagements/list.html", {
        "side": side, "to_answer": to_answer, "active": active, "closed": closed,
        "status_names": STATUS_NAMES, "decision_names": DECISION_NAMES,
        "today": date.today().isoformat(), "form_error": form_error, "errors": errors or {},
    }, status_code=status_code)


@router.get("/engagements")
def engagements_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """Proposed matches with their reasons, engagements under way, and their hours."""
    return _engagements_page(request, session, actor)


def _refused(request: Request, session: Session, actor: Actor, exc: Exception) -> Response:
    """Re-show the page with the refusal; the transaction is rolled back, nothing is written."""
    session.rollback()
    t = translator_for(request)
    if isinstance(exc, InvalidInput):
        invalid = domain_errors(exc, t.locale)
        return _engagements_page(request, session, actor, form_error=invalid.summary,
                                 errors=invalid.errors, status_code=422)
    if isinstance(exc, FormInvalid):
        return _engagements_page(request, session, actor, form_error=exc.summary or t.gettext(
            "Certaines valeurs sont invalides ; rien n'a été enregistré."), errors=exc.errors,
            status_code=422)
    assert isinstance(exc, DomainError)
    return _engagements_page(request, session, actor, form_error=exc.message(t.locale),
                             status_code=exc.status_code)


def _decide(request: Request, engagement_id: uuid.UUID, actor: Actor, session: Session,
            accept: bool) -> Response:
    t = translator_for(request)
    try:
        service.decide(session, actor=actor, engagement_id=engagement_id, accept=accept)
    except Conflict as exc:
        return _refused(request, session, actor, exc)
    response = redirect("/engagements")
    flash(request, response, t.gettext("Proposition acceptée.") if accept
          else t.gettext("Proposition déclinée."))
    return response


@router.post("/engagements/{engagement_id}/accept")
def accept(request: Request, engagement_id: uuid.UUID, form: FormDep, actor: PageActorDep,
           session: SessionDep) -> Response:
    """Accept a proposed engagement on the caller's side."""
    return _decide(request, engagement_id, actor, session, True)


@router.post("/engagements/{engagement_id}/decline")
def decline(request: Request, engagement_id: uuid.UUID, form: FormDep, actor: PageActorDep,
            session: SessionDep) -> Response:
    """Decline a proposed engagement on the caller's side."""
    return _decide(request, engagement_id, actor, session, False)


@router.post("/engagements/{engagement_id}/hours")
def log_hours(request: Request, engagement_id: uuid.UUID, form: FormDep, actor: PageActorDep,
              session: SessionDep) -> Response:
    """The provider logs hours given on a day."""
    t = translator_for(request)
    data = {"worked_on": text(form, "worked_on"), "hours": number(form, "hours"),
            "note": text(form, "note")}
    try:
        hours = validate(HoursIn, {k: v for k, v in data.items() if v is not None}, t.locale)
        service.log_hours(session, actor=actor, engagement_id=engagement_id, data=hours)
    except (FormInvalid, InvalidInput, Conflict) as exc:
        return _refused(request, session, actor, exc)
    response = redirect("/engagements")
    flash(request, response, t.gettext("Heures enregistrées ; le projet doit les valider."))
    return response


@router.post("/engagements/{engagement_id}/hours/{log_id}/approve")
def approve_hours(request: Request, engagement_id: uuid.UUID, log_id: uuid.UUID,
                  form: FormDep, actor: PageActorDep, session: SessionDep) -> Response:
    """The project side approves logged hours."""
    t = translator_for(request)
    service.approve_hours(session, actor=actor, engagement_id=engagement_id, log_id=log_id)
    response = redirect("/engagements")
    flash(request, response, t.gettext("Heures validées."))
    return response


# ---------------------------------------------------------------- company report


@router.get("/report")
def report_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """Hours given per project and neighbourhood, their value and the tax reduction."""
    report = service.company_report(session, actor=actor)
    return render(request, "company/report.html", {"report": report})


def _report_file(actor: Actor, session: Session, fmt: export.Format) -> Response:
    table = service.hours_given_table(session, actor=actor)
    return Response(content=export.render(table, fmt), media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition":
                             f'attachment; filename="{export.filename(table, fmt)}"'})


@router.get("/report.csv")
def report_csv(actor: PageActorDep, session: SessionDep) -> Response:
    """The report of hours given, as CSV."""
    return _report_file(actor, session, "csv")


@router.get("/report.xlsx")
def report_xlsx(actor: PageActorDep, session: SessionDep) -> Response:
    """The report of hours given, as XLSX."""
    return _report_file(actor, session, "xlsx")


# ---------------------------------------------------------------- coordinator


def _run_view(run: Any, locale: str) -> dict[str, Any] | None:
    return service.run_out(run, locale) if run is not None else None


@router.get("/matching")
def matching_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The latest matching run: figures, proposals with reasons, needs left uncovered."""
    actor.require(Role.coordinator)
    t = translator_for(request)
    run = service.latest_run(session, actor=actor)
    return render(request, "coordinator/matching.html", {"run": _run_view(run, t.locale)})


@router.post("/matching")
def run_matching(request: Request, form: FormDep, actor: PageActorDep, session: SessionDep,
                 settings: SettingsDep) -> Response:
    """Start the territory's matching as a job (accepted engagements stay as they are), then
    show its progress."""
    actor.require(Role.coordinator)
    t = translator_for(request)
    try:
        job = tasks.start_matching(session, actor=actor,
                                   time_limit=settings.solver_time_limit_seconds,
                                   seed=settings.solver_seed)
    except InvalidInput as exc:
        session.rollback()
        last = service.latest_run(session, actor=actor)
        return render(request, "coordinator/matching.html", {
            "run": _run_view(last, t.locale), "form_error": exc.message(t.locale)},
            status_code=422)
    return redirect(f"/jobs/{job.id}")
