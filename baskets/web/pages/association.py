"""The associations' pages: their households and their distribution points.

Every write goes through baskets.households.service, so the audit trail is written as it is
for the API.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role, User
from baskets.allocation import service as allocation
from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.api.deps import SessionDep
from baskets.common.scope import Actor, in_territory
from baskets.errors import InvalidInput
from baskets.households import service as households
from baskets.households.models import Household, ReferralReason
from baskets.households.schemas import HouseholdIn, HouseholdPatch
from baskets.supply.models import Category
from baskets.supply.service import products_query
from baskets.territory import service as territory
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.web import marks
from baskets.web.core import (
    FormDep,
    PageActorDep,
    PageRoute,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.forms import FormInvalid, domain_errors, optional, text, validate
from baskets.web.i18n import N_, Translator
from baskets.web.pages.coordinator import CATEGORY_NAMES, STATUS_NAMES
from baskets.weeks.models import Week

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REASON_NAMES = {
    ReferralReason.job_loss: N_("Perte d'emploi"),
    ReferralReason.single_parent: N_("Famille monoparentale"),
    ReferralReason.student: N_("Étudiant·e"),
    ReferralReason.retired_low_income: N_("Retraite modeste"),
    ReferralReason.health: N_("Santé"),
    ReferralReason.housing: N_("Logement"),
    ReferralReason.other: N_("Autre"),
}
PAGE_SIZE = 50
AUDIT_SHOWN = 20
AUDIT_ACTIONS = {"create": N_("inscription"), "update": N_("modification"),
                 "archive": N_("archivage")}
FIELDS = ("reference", "contact_name", "phone", "address", "adults", "children", "infants",
          "neighbourhood_id", "distribution_point_id", "referral_reason", "valid_until",
          "consent_date", "last_contact_date")


def _choices(session: Session, actor: Actor, locale: str) -> dict[str, Any]:
    t = Translator(locale)
    neighbourhoods = session.scalars(territory.neighbourhoods_query(actor.territory_id))
    return {
        "neighbourhood_options": [(str(n.id), f"{n.name} ({n.qpv_code})")
                                  for n in neighbourhoods],
        "point_options": [(str(p.id), p.name)
                          for p in session.scalars(territory.points_query(actor))],
        "reason_options": [(r.value, t.gettext(REASON_NAMES[r])) for r in ReferralReason],
        "products": list(session.scalars(products_query())),
        "categories": list(Category),
        "category_names": CATEGORY_NAMES,
    }


def _names(session: Session, actor: Actor) -> dict[str, dict[uuid.UUID, str]]:
    return {
        "neighbourhood_names": dict(session.execute(
            select(Neighbourhood.id, Neighbourhood.name)
            .where(Neighbourhood.territory_id == actor.territory_id)).all()),
        "point_names": {p.id: p.name for p in session.scalars(territory.points_query(actor))},
    }


@router.get("/households")
def households_page(request: Request, actor: PageActorDep, session: SessionDep,
                    q: str | None = None, archived: bool = False, page: int = 1) -> Response:
    """The association's households: search by reference, archived ones apart, 50 a page."""
    query = households.households_query(actor, q=q or None, archived=archived)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) \
        or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = list(session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render(request, "association/households.html", {
        "households": [(h, households.consumption_units(h.adults, h.children, h.infants))
                       for h in rows],
        "q": q or "", "archived": archived, "total": total, "page": page, "pages": pages,
        **_names(session, actor),
    })


def _form_page(request: Request, session: Session, actor: Actor, *, household: Household | None,
               values: dict[str, Any], errors: dict[str, str] | None = None,
               form_error: str | None = None, status_code: int = 200,
               audit: list[Any] | None = None) -> Response:
    return render(request, "association/household_form.html", {
        "household": household, "values": values, "errors": errors or {},
        "audit": audit or [], "audit_actions": AUDIT_ACTIONS,
        "form_error": form_error, **_choices(session, actor, translator_for(request).locale),
    }, status_code=status_code)


@router.get("/households/new")
def new_household(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The registration form."""
    actor.require(Role.association)
    today = date.today()
    points = list(session.scalars(territory.points_query(actor)))
    values: dict[str, Any] = {
        "adults": "1", "children": "0", "infants": "0",
        "consent_date": today.isoformat(), "last_contact_date": today.isoformat(),
        "valid_until": (today + timedelta(days=182)).isoformat(),
        "distribution_point_id": str(points[0].id) if len(points) == 1 else "",
        "neighbourhood_id": str(points[0].neighbourhood_id) if len(points) == 1 else "",
        "excluded_categories": [], "excluded_products": [],
    }
    return _form_page(request, session, actor, household=None, values=values)


def _submitted(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in FIELDS}
    for name in ("contact_name", "phone", "address"):
        values[name] = optional(form, name)
    values["excluded_categories"] = [v for v in form.getlist("excluded_categories") if v]
    values["excluded_products"] = [v for v in form.getlist("excluded_products") if v]
    return values


def _invalid(request: Request, session: Session, actor: Actor, household: Household | None,
             values: dict[str, Any], exc: Exception) -> Response:
    session.rollback()  # nothing is written when the form is refused
    t = translator_for(request)
    invalid = domain_errors(exc, t.locale) if isinstance(exc, InvalidInput) else exc
    assert isinstance(invalid, FormInvalid)
    shown = {key: ("" if value is None else value) for key, value in values.items()}
    return _form_page(request, session, actor, household=household, values=shown,
                      errors=invalid.errors, status_code=422,
                      form_error=invalid.summary or t.gettext(
                          "Certaines valeurs sont invalides ; rien n'a été enregistré."))


@router.post("/households")
def create_household(request: Request, form: FormDep, actor: PageActorDep, session: SessionDep
                     ) -> Response:
    """Register a household through the service (audit row included)."""
    t = translator_for(request)
    values = _submitted(form)
    try:
        data = validate(HouseholdIn, values, t.locale)
        household = households.create_household(session, actor=actor, data=data)
    except (FormInvalid, InvalidInput) as exc:
        return _invalid(request, session, actor, None, values, exc)
    response = redirect(f"/households?q={household.reference}")
    flash(request, response, t.gettext("Foyer %(reference)s inscrit.",
                                       reference=household.reference))
    return response


@router.get("/households/{household_id}")
def household_page(request: Request, household_id: uuid.UUID, actor: PageActorDep,
                   session: SessionDep) -> Response:
    """One household: its details in an edit form, and its archive button."""
    household = households.get_household(session, actor=actor, household_id=household_id)
    values = households.to_out(household)
    values = {key: ("" if value is None else value) for key, value in values.items()}
    values["excluded_products"] = [str(p) for p in household.excluded_products]
    values["excluded_categories"] = list(household.excluded_categories)
    for key in ("neighbourhood_id", "distribution_point_id"):
        values[key] = str(values[key])
    audit = list(session.scalars(households.audit_query(
        session, actor=actor, household_id=household.id).limit(AUDIT_SHOWN)))
    authors = {user.id: user.full_name for user in session.scalars(
        select(User).where(User.id.in_({a.user_id for a in audit if a.user_id})))}
    return _form_page(request, session, actor, household=household, values=values,
                      audit=[(a, authors.get(a.user_id) if a.user_id else None)
                             for a in audit])


@router.post("/households/{household_id}")
def update_household(request: Request, household_id: uuid.UUID, form: FormDep,
                     actor: PageActorDep, session: SessionDep) -> Response:
    """Change a household; the service audits which fields changed."""
    household = households.get_household(session, actor=actor, household_id=household_id)
    t = translator_for(request)
    values = _submitted(form)
    changes = {key: value for key, value in values.items()
               if key not in ("reference", "consent_date")}
    try:
        data = validate(HouseholdPatch, changes, t.locale)
        households.update_household(session, actor=actor, household_id=household.id,
                                    changes=data)
    except (FormInvalid, InvalidInput) as exc:
        values["reference"] = household.reference
        values["consent_date"] = household.consent_date.isoformat()
        return _invalid(request, session, actor, household, values, exc)
    response = redirect(f"/households/{household.id}")
    flash(request, response, t.gettext("Foyer %(reference)s mis à jour.",
                                       reference=household.reference))
    return response


@router.post("/households/{household_id}/archive")
def archive_household(request: Request, household_id: uuid.UUID, form: FormDep,
                      actor: PageActorDep, session: SessionDep) -> Response:
    """Archive a household: it leaves the allocations, its history stays."""
    household = households.archive_household(session, actor=actor, household_id=household_id)
    response = redirect("/households")
    flash(request, response, translator_for(request).gettext(
        "Foyer %(reference)s archivé.", reference=household.reference))
    return response


@router.get("/points")
def points_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The association's distribution points with their opening hours."""
    actor.require(Role.association)
    points = list(session.scalars(territory.points_query(actor)))
    counts = dict(session.execute(
        households.households_query(actor).order_by(None)
        .with_only_columns(Household.distribution_point_id, func.count())
        .group_by(Household.distribution_point_id)).all())
    return render(request, "association/points.html", {
        "points": [(p, int(counts.get(p.id, 0))) for p in points],
        **_names(session, actor),
        "markers": [{"kind": "point", "name": p.name, "lat": p.lat, "lon": p.lon}
                    for p in points],
    })


def allocated_weeks(session: Session, actor: Actor) -> list[Week]:
    """Weeks of the territory that have a stored allocation, newest first."""
    return list(session.scalars(
        in_territory(Week, actor).join(Allocation, Allocation.week_id == Week.id)
        .order_by(Week.starts_on.desc())))


def _basket_week(session: Session, actor: Actor, week_id: uuid.UUID | None) -> Week | None:
    weeks = allocated_weeks(session, actor)
    if week_id is None:
        return weeks[0] if weeks else None
    return next((w for w in weeks if w.id == week_id), None)


def _folded(text: str) -> str:
    """Lower case without accents: "Bénédicte" is found by "benedicte"."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold())
                   if not unicodedata.combining(c))


def _found(household: Household, wanted: str) -> bool:
    return not wanted or wanted in _folded(f"{household.reference} {household.contact_name or ''}")


@router.get("/points/{point_id}")
def point_page(request: Request, point_id: uuid.UUID, actor: PageActorDep,
               session: SessionDep, week: uuid.UUID | None = None,
               q: str | None = None) -> Response:
    """One point on distribution day: a search by reference or contact name, one big
    "Retiré" per household with its basket as packed, a live count of baskets collected;
    then the packing list (0.1 kg or pieces, products too small to split named, baskets by
    size) and the schedule. Works offline once opened (see baskets/web/offline.py) and
    prints on A4."""
    actor.require(Role.association)
    point: DistributionPoint = territory.get_point(session, actor=actor, point_id=point_id)
    rows = list(session.scalars(households.households_query(actor, point_id=point.id)))
    shown = _basket_week(session, actor, week)
    packing = None
    baskets: dict[uuid.UUID, AllocatedBasket] = {}
    packed = None
    if shown is not None:
        packing = allocation.packing_list(session, actor=actor, week_id=shown.id,
                                          point_id=point.id)
        baskets = {b.household_id: b for b in session.scalars(allocation.baskets_query(
            session, actor=actor, week_id=shown.id, point_id=point.id))}
        packed = allocation.packed_baskets(session, list(baskets.values()))
    names = allocation.product_names(session)
    wanted = _folded(q or "").strip()
    listed = [h for h in rows if _found(h, wanted)]
    return render(request, "association/point.html", {
        "point": point,
        "households": [(h, households.consumption_units(h.adults, h.children, h.infants))
                       for h in rows],
        "listed": [{
            "household": h, "basket": baskets.get(h.id),
            "size": allocation.size_bucket(households.consumption_units(
                h.adults, h.children, h.infants)),
            "portions": packed.portions.get(baskets[h.id].id, ()) if packed and h.id in baskets
            else (),
            "kg": packed.basket_kg(baskets[h.id].id) if packed and h.id in baskets else None,
            "excluded": [names.get(uuid.UUID(str(p)), "?") for p in h.excluded_products],
        } for h in listed],
        "q": q or "",
        "collected": sum(1 for b in baskets.values() if b.collected is True),
        "basket_count": len(baskets),
        "category_names": CATEGORY_NAMES,
        "today": date.today(),
        "week": shown, "weeks": allocated_weeks(session, actor), "packing": packing,
        "status_names": STATUS_NAMES,
        **_names(session, actor),
    })


@router.post("/baskets/{basket_id}/collected")
def mark_collected(request: Request, basket_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                   session: SessionDep) -> Response:
    """Record whether the household collected its basket; back to the point's page. From
    the page's offline queue (an Idempotency-Key header) the answer is JSON and a replay
    changes nothing."""
    collected = text(form, "collected") == "yes"
    if marks.queued(request):
        def apply() -> marks.MarkOut:
            marked = allocation.mark_collected(session, actor=actor, basket_id=basket_id,
                                               collected=collected)
            return marks.MarkOut(id=marked.id, at=marked.collected_at,
                                 state="collected" if collected else "not_collected")

        return marks.answer(request, session, actor, route=f"page:baskets/{basket_id}/collected",
                            payload=marks.MarkIn(outcome="yes" if collected else "no"),
                            mark=apply)
    basket = allocation.mark_collected(session, actor=actor, basket_id=basket_id,
                                       collected=collected)
    household = session.get(Household, basket.household_id)
    response = redirect(f"/points/{basket.distribution_point_id}?week={basket.week_id}"
                        f"#foyer-{basket.household_id}")
    t = translator_for(request)
    reference = household.reference if household else ""
    flash(request, response, t.gettext("Panier de %(reference)s : retiré.", reference=reference)
          if collected else t.gettext("Panier de %(reference)s : non retiré.",
                                      reference=reference))
    return response
