"""Rounds pages: volunteers' open rounds, claim and drop, the round sheet stop by stop; the
coordinator plans the week's rounds from the week page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.api.deps import SessionDep
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.db import utcnow
from baskets.errors import ConfirmationRequired, DomainError, InvalidInput, NotFound
from baskets.jobs.models import Job
from baskets.rounds import field, service, tasks
from baskets.rounds.availability import within_availability
from baskets.rounds.field import FieldStop
from baskets.rounds.models import Round, StopKind
from baskets.web import marks, offline
from baskets.web.core import (
    FormDep,
    PageActorDep,
    PageRoute,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.forms import text
from baskets.web.i18n import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

KIND_NAMES = {StopKind.pickup: N_("Enlèvement"), StopKind.delivery: N_("Livraison"),
              StopKind.hub: N_("Plateforme de tri")}
STATUS_NAMES = {"open": N_("À pourvoir"), "claimed": N_("Prise"), "done": N_("Terminée"),
                "cancelled": N_("Annulée"), "pending": N_("À faire"), "problem": N_("Problème")}
STOP_STATUS_NAMES = {"pending": N_("À faire"), "done": N_("Fait"),
                     "problem": N_("Problème signalé")}
ROUTE_COLOURS = ["#1d4ed8", "#b91c1c", "#047857", "#7c3aed", "#c2410c", "#0e7490", "#a16207",
                 "#be185d"]


def rounds_map(rounds: list[dict[str, Any]], hub: list[float] | None) -> dict[str, Any]:
    """Markers (farms, points, hub) and one line per round, for partials/map.html."""
    markers: dict[tuple[float, float], dict[str, Any]] = {}
    routes = []
    for k, rnd in enumerate(rounds):
        path = [[rnd["start_lat"], rnd["start_lon"]]]
        for stop in rnd["stops"]:
            kind = {"pickup": "farm", "delivery": "point", "hub": "hub"}[str(stop.kind.value)]
            markers.setdefault((stop.lat, stop.lon), {"kind": kind, "name": stop.name,
                                                      "lat": stop.lat, "lon": stop.lon})
            path.append([stop.lat, stop.lon])
        path.append([rnd["end_lat"], rnd["end_lon"]])
        routes.append({"colour": ROUTE_COLOURS[k % len(ROUTE_COLOURS)], "path": path,
                       "name": f"{rnd['number']} — {rnd['vehicle_label']}"})
    if hub:
        markers.setdefault((hub[0], hub[1]), {"kind": "hub", "name": "Plateforme de tri",
                                              "lat": hub[0], "lon": hub[1]})
    return {"markers": list(markers.values()), "routes": routes}


def week_rounds_context(session: Session, actor: Actor, week_id: uuid.UUID) -> dict[str, Any]:
    """The week page's rounds section: the plan, if any, with its map."""
    try:
        plan = service.get_plan(session, actor=actor, week_id=week_id)
    except NotFound:
        return {"plan": None, "rounds_map": None}
    live = [r for r in plan["rounds"] if r["status"].value != "cancelled"]
    return {"plan": plan, "rounds_map": rounds_map(live, plan["hub"]),
            "round_status_names": STATUS_NAMES}


def _job_page(request: Request, session: Session, week_id: uuid.UUID,
              start: Callable[[Settings], Job]) -> Response:
    """Start a job of the week's rounds and show its progress; a refusal (409, 422) goes
    back to the week's rounds with its French message."""
    settings: Settings = request.app.state.settings
    try:
        job = start(settings)
    except NotFound:
        raise
    except DomainError as exc:
        session.rollback()
        response = redirect(f"/weeks/{week_id}#tournees")
        flash(request, response, exc.message(translator_for(request).locale))
        return response
    return redirect(f"/jobs/{job.id}")


@router.post("/weeks/{week_id}/rounds")
def plan_rounds(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                session: SessionDep) -> Response:
    """Start planning the week's rounds as a job, then show its progress."""
    return _job_page(request, session, week_id, lambda settings: tasks.start_planning(
        session, actor=actor, week_id=week_id,
        time_limit=settings.solver_time_limit_seconds, seed=settings.solver_seed))


@router.post("/weeks/{week_id}/drivers")
def assign_drivers(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                   session: SessionDep) -> Response:
    """Start assigning volunteer drivers to the rounds still without one (claims stay), as
    a job, then show its progress."""
    return _job_page(request, session, week_id, lambda settings: tasks.start_drivers(
        session, actor=actor, week_id=week_id, pins=[], excludes=[],
        time_limit=min(settings.solver_time_limit_seconds, 30.0), seed=settings.solver_seed))


@router.get("/weeks/{week_id}/rounds/export")
def export_rounds(request: Request, week_id: uuid.UUID, actor: PageActorDep,
                  session: SessionDep, format: str = "csv") -> Response:
    """The week's rounds as a CSV or XLSX download (one row per stop)."""
    from zoneinfo import ZoneInfo

    from baskets.io import export

    settings: Settings = request.app.state.settings
    fmt: export.Format = "xlsx" if format == "xlsx" else "csv"
    table = service.rounds_table(session, actor=actor, week_id=week_id,
                                 tz=ZoneInfo(settings.timezone))
    return Response(export.render(table, fmt), media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition":
                             f'attachment; filename="{export.filename(table, fmt)}"'})


@router.get("/rounds")
def rounds_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """Open rounds near me as cards (when, how far, load, whether it fits my availability)
    and the rounds I drive."""
    actor.require(Role.volunteer)
    settings: Settings = request.app.state.settings
    tz = ZoneInfo(settings.timezone)
    query, volunteer = service.open_rounds(session, actor=actor)
    # A round that has started can no longer be claimed: it is not offered.
    query = query.where(Round.starts_at > utcnow())
    open_rounds = [service.round_out(session, r, origin=(volunteer.lat, volunteer.lon))
                   for r in session.scalars(query.limit(100))]
    open_rounds.sort(key=lambda r: (r["distance_km"], r["starts_at"]))
    for r in open_rounds:
        r["fits"] = within_availability(volunteer.availability, r["starts_at"].astimezone(tz),
                                        r["ends_at"].astimezone(tz))
    mine = [service.round_out(session, r) for r in service.my_rounds(session, actor=actor)]
    return render(request, "volunteer/rounds.html", {
        "open_rounds": open_rounds, "mine": mine, "status_names": STATUS_NAMES})


def _back(request: Request, path: str, message: str) -> Response:
    response = redirect(path)
    flash(request, response, message)
    return response


def _confirm_page(request: Request, exc: ConfirmationRequired, *, action: str, back: str,
                  question: str, yes: str) -> Response:
    """The second step of a claim or a drop that needs the person's word: the warning, a
    form that repeats the request confirmed, and a way back (no JavaScript needed)."""
    t = translator_for(request)
    return render(request, "volunteer/confirm.html", {
        "question": question, "warning": exc.message(t.locale), "action": action,
        "back": back, "yes": yes})


def _confirmed(form: Any) -> bool:
    return text(form, "confirm") == "yes"


@router.post("/rounds/{round_id}/claim")
def claim(request: Request, round_id: uuid.UUID, form: FormDep, actor: PageActorDep,
          session: SessionDep) -> Response:
    """Take an open round, then show its sheet; outside my availability, ask first."""
    t = translator_for(request)
    settings: Settings = request.app.state.settings
    try:
        service.claim_round(session, actor=actor, round_id=round_id,
                            confirm=_confirmed(form), timezone=settings.timezone)
    except NotFound:
        raise
    except ConfirmationRequired as exc:
        session.rollback()
        return _confirm_page(request, exc, action=f"/rounds/{round_id}/claim", back="/rounds",
                             question=t.gettext("Prendre cette tournée ?"),
                             yes=t.gettext("Oui, prendre cette tournée"))
    except DomainError as exc:
        session.rollback()
        return _back(request, "/rounds", exc.message(t.locale))
    return _back(request, f"/rounds/{round_id}", t.gettext("Tournée prise : merci !"))


@router.post("/rounds/{round_id}/drop")
def drop(request: Request, round_id: uuid.UUID, form: FormDep, actor: PageActorDep,
         session: SessionDep) -> Response:
    """Give the round back; once a stop is done or reported, ask first."""
    t = translator_for(request)
    try:
        service.drop_round(session, actor=actor, round_id=round_id, confirm=_confirmed(form))
    except NotFound:
        raise
    except ConfirmationRequired as exc:
        session.rollback()
        return _confirm_page(request, exc, action=f"/rounds/{round_id}/drop",
                             back=f"/rounds/{round_id}",
                             question=t.gettext("Rendre cette tournée ?"),
                             yes=t.gettext("Oui, rendre la tournée"))
    except DomainError as exc:
        session.rollback()
        return _back(request, f"/rounds/{round_id}", exc.message(t.locale))
    return _back(request, "/rounds", t.gettext("Tournée rendue : elle est de nouveau proposée."))


@router.post("/rounds/{round_id}/stops/{stop_id}/{outcome}")
def mark_stop(request: Request, round_id: uuid.UUID, stop_id: uuid.UUID, outcome: str,
              form: FormDep, actor: PageActorDep, session: SessionDep) -> Response:
    """Mark a stop done, or report a problem with a note. From the page's offline queue (an
    Idempotency-Key header) the answer is JSON and a replay changes nothing."""
    t = translator_for(request)
    if outcome not in ("done", "problem"):
        raise NotFound("Page", "Page")
    note = text(form, "note") or None
    if marks.queued(request):
        def apply() -> marks.MarkOut:
            if outcome == "problem" and not note:
                raise InvalidInput("Décrivez le problème en quelques mots.",
                                   "Describe the problem in a few words.",
                                   [{"field": "note", "message": "Obligatoire."}])
            stop = service.mark_stop(session, actor=actor, round_id=round_id,
                                     stop_id=stop_id, done=outcome == "done", note=note)
            return marks.MarkOut(id=stop.id, state=stop.status.value, at=stop.done_at)

        return marks.answer(request, session, actor,
                            route=f"page:rounds/{round_id}/stops/{stop_id}",
                            payload=marks.MarkIn(outcome=outcome, note=note), mark=apply)
    if outcome == "problem" and not note:
        return _back(request, f"/rounds/{round_id}#etape-{stop_id}",
                     t.gettext("Décrivez le problème en quelques mots."))
    try:
        stop = service.mark_stop(session, actor=actor, round_id=round_id, stop_id=stop_id,
                                 done=outcome == "done", note=note)
    except NotFound:
        raise
    except DomainError as exc:
        session.rollback()
        return _back(request, f"/rounds/{round_id}", exc.message(t.locale))
    message = (t.gettext("Étape %(n)s faite.", n=stop.position) if outcome == "done"
               else t.gettext("Problème signalé à l'étape %(n)s.", n=stop.position))
    return _back(request, f"/rounds/{round_id}#etape-{stop_id}", message)


def sheet_map(stops: tuple[FieldStop, ...], sheet: dict[str, Any]) -> dict[str, Any]:
    """The round's map: one numbered marker per place (numbers of every visit there) and
    the round's line from its start back to its end."""
    places: dict[tuple[float, float], dict[str, Any]] = {}
    for stop in stops:
        kind = {"pickup": "farm", "delivery": "point", "hub": "hub"}[stop.kind]
        place = places.setdefault((stop.lat, stop.lon), {
            "kind": kind, "name": stop.name, "lat": stop.lat, "lon": stop.lon, "numbers": []})
        place["numbers"].append(stop.position)
    markers = [{**{k: v for k, v in place.items() if k != "numbers"},
                "label": "·".join(str(n) for n in place["numbers"])}
               for place in places.values()]
    path = [[sheet["start_lat"], sheet["start_lon"]], *([s.lat, s.lon] for s in stops)]
    return {"markers": markers, "routes": [{
        "colour": ROUTE_COLOURS[0], "path": path,
        "name": f"{sheet['number']} — {sheet['vehicle_label']}"}]}


@router.get("/rounds/{round_id}")
def sheet_page(request: Request, round_id: uuid.UUID, actor: PageActorDep,
               session: SessionDep) -> Response:
    """The round sheet for the road: the stop to do now (what to load or hand over, when,
    the wait, who to call, how to get there) with big "Fait" and "Problème" buttons, the
    next stop, every other stop folded, a map with numbered markers; prints on A4."""
    settings: Settings = request.app.state.settings
    sheet, road = field.field_sheet(session, actor=actor, round_id=round_id,
                                    timezone=settings.timezone,
                                    navigation_url=settings.navigation_url)
    mine = False
    if actor.role is Role.volunteer:
        mine = sheet["driver_id"] is not None and sheet["driver_id"] == service._my_volunteer(
            session, actor).id
    return render(request, "volunteer/sheet.html", {
        "sheet": sheet, "road": road, "mine": mine, "kind_names": KIND_NAMES,
        "status_names": STATUS_NAMES, "stop_status_names": STOP_STATUS_NAMES,
        "map_data": sheet_map(road.stops, sheet),
    })


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    """The service worker at the site's root, so it may serve the field pages offline; its
    version follows the files it caches, so a new release replaces the old caches."""
    return Response(offline.service_worker(), media_type="text/javascript",
                    headers={"Cache-Control": "no-cache"})


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """The web app manifest: the field pages install like an app on a phone."""
    t = translator_for(request)
    return Response(offline.manifest(t.gettext("Paniers solidaires"),
                                     t.gettext("Tournées et distributions, même sans réseau."),
                                     t.locale),
                    media_type="application/manifest+json")
