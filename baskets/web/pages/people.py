"""Volunteers' profile page and companies' skills-sponsorship offers."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.api.deps import SessionDep
from baskets.common.scope import Actor
from baskets.errors import InvalidInput
from baskets.sponsorship import service as sponsorship
from baskets.sponsorship.models import Offer
from baskets.sponsorship.schemas import OfferIn, OfferPatch
from baskets.territory.models import Neighbourhood
from baskets.volunteers import service as volunteers
from baskets.volunteers.models import VehicleKind, Volunteer
from baskets.volunteers.schemas import VolunteerProfile
from baskets.web.core import (
    FormDep,
    PageActorDep,
    PageRoute,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.forms import FormInvalid, checkbox, domain_errors, number, skills, text, validate
from baskets.web.i18n import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

VEHICLE_NAMES = {
    VehicleKind.none: N_("Pas de véhicule"),
    VehicleKind.car: N_("Voiture"),
    VehicleKind.van: N_("Utilitaire"),
    VehicleKind.cargo_bike: N_("Vélo cargo"),
}
SLOTS_PER_DAY = 2
SKILL_ROWS_SPARE = 3


def _skill_rows(current: dict[str, Any]) -> list[tuple[str, int]]:
    rows = [(name, int(level)) for name, level in sorted(current.items())]
    return rows + [("", 0)] * SKILL_ROWS_SPARE


def _availability_grid(slots: list[dict[str, str]]) -> list[list[tuple[str, str]]]:
    """Per weekday, SLOTS_PER_DAY (start, end) pairs, empty where unused."""
    grid: list[list[tuple[str, str]]] = [[] for _ in range(7)]
    for slot in sorted(slots, key=lambda s: (int(s["weekday"]), s["start"])):
        day = int(slot["weekday"])
        if 0 <= day < 7 and len(grid[day]) < SLOTS_PER_DAY:
            grid[day].append((slot["start"], slot["end"]))
    return [day + [("", "")] * (SLOTS_PER_DAY - len(day)) for day in grid]


def _profile_page(request: Request, volunteer: Volunteer, values: dict[str, Any], *,
                  errors: dict[str, str] | None = None, form_error: str | None = None,
                  status_code: int = 200) -> Response:
    return render(request, "volunteer/profile.html", {
        "volunteer": volunteer, "values": values, "errors": errors or {},
        "form_error": form_error, "slots_per_day": SLOTS_PER_DAY,
        "vehicle_options": [(kind.value, translator_for(request).gettext(VEHICLE_NAMES[kind]))
                            for kind in VehicleKind],
    }, status_code=status_code)


def _profile_values(volunteer: Volunteer, actor: Actor) -> dict[str, Any]:
    values = volunteers.to_out(volunteer, actor.user)
    values["grid"] = _availability_grid(volunteer.availability)
    values["skill_rows"] = _skill_rows(volunteer.skills)
    return values


@router.get("/profile")
def profile_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """My volunteer profile: availability, vehicle, skills."""
    volunteer = volunteers.my_profile(session, actor=actor)
    return _profile_page(request, volunteer, _profile_values(volunteer, actor))


@router.post("/profile")
def save_profile(request: Request, form: FormDep, actor: PageActorDep, session: SessionDep
                 ) -> Response:
    """Replace my profile through the volunteers service."""
    volunteer = volunteers.my_profile(session, actor=actor)
    t = translator_for(request)
    slots = []
    grid: list[list[tuple[str, str]]] = []
    for day in range(7):
        row = []
        for index in range(SLOTS_PER_DAY):
            start, end = text(form, f"start_{day}_{index}"), text(form, f"end_{day}_{index}")
            row.append((start, end))
            if start or end:
                slots.append({"weekday": day, "start": start, "end": end})
        grid.append(row)
    data: dict[str, Any] = {
        "home_area": text(form, "home_area"), "lat": number(form, "lat"),
        "lon": number(form, "lon"), "vehicle_kind": text(form, "vehicle_kind"),
        "capacity_kg": number(form, "capacity_kg") or "0",
        "refrigerated": checkbox(form, "refrigerated"),
        "hours_per_month": number(form, "hours_per_month") or "0",
        "max_rounds_per_month": text(form, "max_rounds_per_month") or "0",
        "skills": skills(form), "availability": slots,
        "remote_ok": checkbox(form, "remote_ok"), "max_km": number(form, "max_km") or "0",
    }
    try:
        profile = validate(VolunteerProfile, data, t.locale)
        volunteers.update_my_profile(session, actor=actor, data=profile)
    except (FormInvalid, InvalidInput) as exc:
        session.rollback()
        invalid = domain_errors(exc, t.locale) if isinstance(exc, InvalidInput) else exc
        assert isinstance(invalid, FormInvalid)
        shown = dict(data, grid=grid, skill_rows=[(k, int(v) if str(v).isdigit() else 1)
                                                  for k, v in data["skills"].items()]
                     + [("", 0)] * SKILL_ROWS_SPARE)
        return _profile_page(request, volunteer, shown, errors=invalid.errors,
                             status_code=422, form_error=invalid.summary or t.gettext(
                                 "Certaines valeurs sont invalides ; rien n'a été "
                                 "enregistré."))
    response = redirect("/profile")
    flash(request, response, t.gettext("Profil enregistré."))
    return response


# ---------------------------------------------------------------- companies


def _territory_centre(session: Session, actor: Actor) -> tuple[float, float]:
    row = session.execute(select(func.avg(Neighbourhood.lat), func.avg(Neighbourhood.lon))
                          .where(Neighbourhood.territory_id == actor.territory_id)).one()
    return (round(float(row[0]), 4), round(float(row[1]), 4)) if row[0] is not None \
        else (46.6, 2.4)


@router.get("/offers")
def offers_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The company's skills-sponsorship offers."""
    actor.require(Role.company)
    offers = list(session.scalars(sponsorship.offers_query(actor)))
    return render(request, "company/offers.html", {
        "offers": offers, "total_hours": sum(o.hours for o in offers),
    })


def _offer_form(request: Request, offer: Offer | None, values: dict[str, Any], *,
                errors: dict[str, str] | None = None, form_error: str | None = None,
                status_code: int = 200) -> Response:
    return render(request, "company/offer_form.html", {
        "offer": offer, "values": values, "errors": errors or {}, "form_error": form_error,
    }, status_code=status_code)


@router.get("/offers/new")
def new_offer(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The form for a new offer, placed by default at the territory's centre."""
    actor.require(Role.company)
    lat, lon = _territory_centre(session, actor)
    today = date.today()
    return _offer_form(request, None, {
        "title": "", "hours": "", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(), "on_site": True,
        "remote_ok": False, "lat": lat, "lon": lon, "max_km": 15, "min_chunk_hours": 2,
        "skill_rows": _skill_rows({}),
    })


def _offer_data(form: Any) -> dict[str, Any]:
    return {
        "title": text(form, "title"), "skills": skills(form), "hours": number(form, "hours"),
        "starts_on": text(form, "starts_on"), "ends_on": text(form, "ends_on"),
        "on_site": checkbox(form, "on_site"), "remote_ok": checkbox(form, "remote_ok"),
        "lat": number(form, "lat"), "lon": number(form, "lon"),
        "max_km": number(form, "max_km"), "min_chunk_hours": number(form, "min_chunk_hours"),
    }


def _offer_invalid(request: Request, offer: Offer | None, data: dict[str, Any],
                   exc: Exception) -> Response:
    t = translator_for(request)
    invalid = domain_errors(exc, t.locale) if isinstance(exc, InvalidInput) else exc
    assert isinstance(invalid, FormInvalid)
    shown = {key: ("" if value is None else value) for key, value in data.items()}
    shown["skill_rows"] = [(k, int(v) if str(v).isdigit() else 1)
                           for k, v in data["skills"].items()] + [("", 0)] * SKILL_ROWS_SPARE
    return _offer_form(request, offer, shown, errors=invalid.errors, status_code=422,
                       form_error=invalid.summary or invalid.errors.get("__all__") or t.gettext(
                           "Certaines valeurs sont invalides ; rien n'a été enregistré."))


@router.post("/offers")
def create_offer(request: Request, form: FormDep, actor: PageActorDep, session: SessionDep
                 ) -> Response:
    """Publish an offer through the sponsorship service."""
    actor.require(Role.company)
    t = translator_for(request)
    data = _offer_data(form)
    try:
        offer_in = validate(OfferIn, {k: v for k, v in data.items() if v is not None},
                            t.locale)
        sponsorship.create_offer(session, actor=actor, data=offer_in)
    except (FormInvalid, InvalidInput) as exc:
        session.rollback()
        return _offer_invalid(request, None, data, exc)
    response = redirect("/offers")
    flash(request, response, t.gettext("Offre publiée."))
    return response


@router.get("/offers/{offer_id}")
def offer_page(request: Request, offer_id: uuid.UUID, actor: PageActorDep,
               session: SessionDep) -> Response:
    """One of the company's offers, in its edit form."""
    actor.require(Role.company)
    offer = sponsorship.get_offer(session, actor=actor, offer_id=offer_id)
    values = {column: getattr(offer, column) for column in Offer.__table__.columns.keys()}
    values["skill_rows"] = _skill_rows(offer.skills)
    return _offer_form(request, offer, values)


@router.post("/offers/{offer_id}")
def update_offer(request: Request, offer_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                 session: SessionDep) -> Response:
    """Change the company's own offer."""
    actor.require(Role.company)
    offer = sponsorship.get_offer(session, actor=actor, offer_id=offer_id)
    t = translator_for(request)
    data = _offer_data(form)
    try:
        changes = validate(OfferPatch, {k: v for k, v in data.items() if v is not None},
                           t.locale)
        sponsorship.update_offer(session, actor=actor, offer_id=offer.id, changes=changes)
    except (FormInvalid, InvalidInput) as exc:
        session.rollback()
        return _offer_invalid(request, offer, data, exc)
    response = redirect("/offers")
    flash(request, response, t.gettext("Offre mise à jour."))
    return response
