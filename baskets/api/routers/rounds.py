"""Rounds: plan and re-plan a week, volunteers claim and drive them, drivers and sheets."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Query, Response

from baskets.api.deps import (
    ActorDep,
    IdempotencyKey,
    LocaleDep,
    PageDep,
    SessionDep,
    SettingsDep,
)
from baskets.api.routers.io import FormatQuery, _file
from baskets.api.routers.jobs import submitted
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.db import utcnow
from baskets.io import export
from baskets.jobs.schemas import SubmittedOut
from baskets.rounds import service, tasks
from baskets.rounds.models import Round
from baskets.rounds.schemas import (
    DriversIn,
    PlanIn,
    PlanOut,
    ReplacementOut,
    ReplanIn,
    RoundOut,
    SheetOut,
    StopDoneIn,
    StopOut,
    StopProblemIn,
)

router = APIRouter(tags=["rounds"])


def _plan(session: Any, actor: Any, week_id: uuid.UUID, locale: str) -> dict[str, Any]:
    plan = service.get_plan(session, actor=actor, week_id=week_id)
    plan["unserved"] = [
        {**{c: getattr(u, c) for c in ("ref", "kind", "name", "kg", "reason", "farmer_id",
                                       "distribution_point_id")},
         "message": u.message_en if locale == "en" else u.message_fr}
        for u in plan["unserved"]
    ]
    return plan


def _reasons(items: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [{**item, "reasons": [{"code": r["code"], "message": r["en" if locale == "en"
                                                                  else "fr"]}
                                 for r in item["reasons"]]} for item in items]


@router.post("/weeks/{week_id}/rounds", response_model=SubmittedOut, status_code=202,
             summary="Planifier les tournées (tâche) / start planning the week's rounds")
def plan_rounds(week_id: uuid.UUID, actor: ActorDep, session: SessionDep, settings: SettingsDep,
                response: Response, options: PlanIn = Body(default_factory=PlanIn)) -> Any:
    job = tasks.start_planning(
        session, actor=actor, week_id=week_id,
        time_limit=options.time_limit or settings.solver_time_limit_seconds,
        seed=settings.solver_seed if options.seed is None else options.seed)
    return submitted(job, response)


@router.get("/weeks/{week_id}/rounds", response_model=PlanOut)
def get_rounds(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
               locale: LocaleDep) -> Any:
    return _plan(session, actor, week_id, locale)


@router.post("/weeks/{week_id}/rounds/replan", response_model=SubmittedOut, status_code=202,
             summary="Re-planifier sans un véhicule (tâche) / re-plan without a vehicle")
def replan(week_id: uuid.UUID, data: ReplanIn, actor: ActorDep, session: SessionDep,
           settings: SettingsDep, response: Response) -> Any:
    job = tasks.start_replan(
        session, actor=actor, week_id=week_id, vehicle_ref=data.vehicle,
        time_limit=data.time_limit or settings.solver_time_limit_seconds,
        seed=settings.solver_seed if data.seed is None else data.seed)
    return submitted(job, response)


@router.get("/weeks/{week_id}/exports/rounds", response_class=Response)
def export_rounds(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                  settings: SettingsDep, fmt: FormatQuery = "csv") -> Response:
    """The week's rounds, one row per stop (CSV or XLSX)."""
    table = service.rounds_table(session, actor=actor, week_id=week_id,
                                 tz=ZoneInfo(settings.timezone))
    return _file(export.render(table, fmt), table.name, fmt)


@router.post("/weeks/{week_id}/drivers", response_model=SubmittedOut, status_code=202,
             summary="Affecter des chauffeurs (tâche) / start assigning drivers to the rounds")
def assign_drivers(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                   settings: SettingsDep, response: Response,
                   data: DriversIn = Body(default_factory=DriversIn)) -> Any:
    job = tasks.start_drivers(
        session, actor=actor, week_id=week_id,
        pins=[(p.round_id, p.volunteer_id) for p in data.pins],
        excludes=[(p.round_id, p.volunteer_id) for p in data.excludes],
        time_limit=data.time_limit or min(settings.solver_time_limit_seconds, 30.0),
        seed=settings.solver_seed if data.seed is None else data.seed)
    return submitted(job, response)


@router.get("/rounds/open", response_model=Page[RoundOut])
def open_rounds(actor: ActorDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    query, volunteer = service.open_rounds(session, actor=actor)
    # A round that has started can no longer be claimed: it is not offered.
    query = query.where(Round.starts_at > utcnow())
    return paginate(session, query, limit=page.limit, offset=page.offset,
                    to_item=lambda r: service.round_out(session, r,
                                                        origin=(volunteer.lat, volunteer.lon)))


@router.get("/rounds/mine", response_model=list[RoundOut])
def my_rounds(actor: ActorDep, session: SessionDep) -> Any:
    return [service.round_out(session, r) for r in service.my_rounds(session, actor=actor)]


ConfirmQuery = Annotated[bool, Query(description=(
    "Confirmer après l'avertissement (409 confirmation_required) / confirm after the warning"))]


@router.post("/rounds/{round_id}/claim", response_model=RoundOut)
def claim(round_id: uuid.UUID, actor: ActorDep, session: SessionDep, settings: SettingsDep,
          confirm: ConfirmQuery = False) -> Any:
    """Take an open round: 409 once it started or when it overlaps a round you drive; 409
    `confirmation_required` outside your availability until repeated with `confirm=true`."""
    return service.round_out(session, service.claim_round(
        session, actor=actor, round_id=round_id, confirm=confirm, timezone=settings.timezone))


@router.post("/rounds/{round_id}/drop", response_model=RoundOut)
def drop(round_id: uuid.UUID, actor: ActorDep, session: SessionDep,
         confirm: ConfirmQuery = False) -> Any:
    """Give a round back: 409 `confirmation_required` once a stop is done or reported, until
    repeated with `confirm=true`."""
    return service.round_out(session, service.drop_round(session, actor=actor,
                                                         round_id=round_id, confirm=confirm))


def _mark(session: Any, actor: Any, round_id: uuid.UUID, stop_id: uuid.UUID,
          data: StopDoneIn | StopProblemIn, key: str | None, outcome: str) -> Any:
    """Mark the stop once per Idempotency-Key: a replay (a phone back online) changes nothing
    and gets the first answer."""
    return create_once(session, actor, key=key,
                       route=f"rounds/{round_id}/stops/{stop_id}/{outcome}",
                       payload=data, status_code=200,
                       create=lambda: StopOut.model_validate(service.mark_stop(
                           session, actor=actor, round_id=round_id, stop_id=stop_id,
                           done=outcome == "done", note=data.note)))


@router.post("/rounds/{round_id}/stops/{stop_id}/done", response_model=StopOut)
def stop_done(round_id: uuid.UUID, stop_id: uuid.UUID, actor: ActorDep, session: SessionDep,
              data: StopDoneIn = Body(default_factory=StopDoneIn),
              key: IdempotencyKey = None) -> Any:
    """Mark a stop done; idempotent with an Idempotency-Key."""
    return _mark(session, actor, round_id, stop_id, data, key, "done")


@router.post("/rounds/{round_id}/stops/{stop_id}/problem", response_model=StopOut)
def stop_problem(round_id: uuid.UUID, stop_id: uuid.UUID, data: StopProblemIn,
                 actor: ActorDep, session: SessionDep, key: IdempotencyKey = None) -> Any:
    """Report a problem at a stop, with a note; idempotent with an Idempotency-Key."""
    return _mark(session, actor, round_id, stop_id, data, key, "problem")


@router.get("/rounds/{round_id}/sheet", response_model=SheetOut)
def round_sheet(round_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.sheet(session, actor=actor, round_id=round_id)


@router.get("/rounds/{round_id}/replacements", response_model=list[ReplacementOut])
def round_replacements(round_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                       locale: LocaleDep) -> Any:
    return _reasons(service.replacements(session, actor=actor, round_id=round_id), locale)
