"""The food-project team's pages: weeks, the week at a glance, supply entry, farmers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.allocation import service as allocation
from baskets.api.deps import SessionDep
from baskets.common.scope import Actor
from baskets.errors import InvalidInput, NotFound
from baskets.households.models import Household
from baskets.households.service import consumption_units, pseudonymous_query
from baskets.io.export import MEDIA_TYPES
from baskets.reports import service as reports
from baskets.reports.charts import bar_chart
from baskets.reports.document import report_workbook
from baskets.supply import service as supply
from baskets.supply.models import Category, Product, SupplyLot
from baskets.supply.schemas import LotIn
from baskets.territory.models import Neighbourhood
from baskets.territory.service import points_query
from baskets.web.bulk import parse_paste
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
from baskets.web.i18n import N_, PARIS_TZ, Translator
from baskets.web.pages import rounds as rounds_pages
from baskets.weeks import service as weeks
from baskets.weeks.models import Week, WeekStatus
from baskets.weeks.schemas import WeekIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CATEGORY_NAMES = {
    Category.vegetable: N_("Légumes"),
    Category.fruit: N_("Fruits"),
    Category.egg: N_("Œufs"),
    Category.dairy: N_("Produits laitiers"),
    Category.grain: N_("Céréales"),
    Category.legume: N_("Légumineuses"),
}
STATUS_NAMES = {
    WeekStatus.draft: N_("brouillon"),
    WeekStatus.allocated: N_("répartie"),
    WeekStatus.planned: N_("tournées prévues"),
    WeekStatus.published: N_("publiée"),
    WeekStatus.done: N_("terminée"),
}


def current_week(session: Session, actor: Actor, today: date | None = None) -> Week | None:
    """The week containing today, else the newest one."""
    monday = (today or date.today()) - timedelta(days=(today or date.today()).weekday())
    query = weeks.weeks_query(actor)
    return session.scalars(query.where(Week.starts_on == monday)).first() \
        or session.scalars(query).first()


def supply_summary(session: Session, actor: Actor, week: Week) -> dict[str, Any]:
    """Kilos per category, lot and farmer counts and the value of the week's supply."""
    rows = session.execute(
        select(Product.category, func.count(SupplyLot.id), func.sum(SupplyLot.quantity_kg),
               func.sum(SupplyLot.quantity_kg * SupplyLot.price_per_kg))
        .select_from(SupplyLot).join(Product, Product.id == SupplyLot.product_id)
        .where(SupplyLot.organisation_id == actor.organisation_id,
               SupplyLot.week_id == week.id)
        .group_by(Product.category)
    ).all()
    by_category = {Category(row[0]): (int(row[1]), float(row[2] or 0), float(row[3] or 0))
                   for row in rows}
    farmers = session.scalar(
        select(func.count(func.distinct(SupplyLot.farmer_id)))
        .where(SupplyLot.organisation_id == actor.organisation_id, SupplyLot.week_id == week.id)
    ) or 0
    total_kg = sum(kg for _, kg, _ in by_category.values())
    return {
        "categories": [(category, *by_category.get(category, (0, 0.0, 0.0)))
                       for category in Category],
        "total_kg": total_kg,
        "lots": sum(count for count, _, _ in by_category.values()),
        "value": sum(value for _, _, value in by_category.values()),
        "farmers": farmers,
    }


def households_by_neighbourhood(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Active households and consumption units per neighbourhood of the territory."""
    query = pseudonymous_query(actor).order_by(None).with_only_columns(
        Household.neighbourhood_id, Household.adults, Household.children, Household.infants)
    counts: dict[uuid.UUID, list[float]] = defaultdict(lambda: [0, 0.0])
    for neighbourhood_id, adults, children, infants in session.execute(query):
        counts[neighbourhood_id][0] += 1
        counts[neighbourhood_id][1] += consumption_units(adults, children, infants)
    names = dict(session.execute(
        select(Neighbourhood.id, Neighbourhood.name)
        .where(Neighbourhood.territory_id == actor.territory_id)).all())
    rows = [{"name": names.get(nid, "?"), "households": int(c[0]), "units": c[1]}
            for nid, c in counts.items()]
    return sorted(rows, key=lambda row: str(row["name"]))


def map_markers(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Distribution points of the territory and the team's farms, for the map."""
    markers: list[dict[str, Any]] = [
        {"kind": "point", "name": point.name, "lat": point.lat, "lon": point.lon}
        for point in session.scalars(points_query(actor))
    ]
    markers += [
        {"kind": "farm", "name": farmer.name, "lat": farmer.lat, "lon": farmer.lon}
        for farmer in session.scalars(supply.farmers_query(actor))
    ]
    return markers


@router.get("/weeks")
def weeks_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The list of weeks with their supply, and a form to open the next one."""
    actor.require(Role.coordinator)
    return _weeks_page(request, session, actor)


def _weeks_page(request: Request, session: Session, actor: Actor, *,
                errors: dict[str, str] | None = None, form_error: str | None = None,
                status_code: int = 200) -> Response:
    if status_code != 200:
        session.rollback()  # nothing is written when the form is refused
    listed = list(session.scalars(weeks.weeks_query(actor)))
    totals = dict(session.execute(
        select(SupplyLot.week_id, func.sum(SupplyLot.quantity_kg))
        .where(SupplyLot.organisation_id == actor.organisation_id)
        .group_by(SupplyLot.week_id)).all())
    newest = max((w.starts_on for w in listed), default=None)
    today = date.today()
    suggested = (newest + timedelta(days=7)) if newest else today - timedelta(days=today.weekday())
    return render(request, "coordinator/weeks.html", {
        "weeks": [(w, float(totals.get(w.id) or 0)) for w in listed],
        "status_names": STATUS_NAMES, "suggested": suggested,
        "errors": errors or {}, "form_error": form_error,
    }, status_code=status_code)


@router.post("/weeks")
def open_week(request: Request, form: FormDep, actor: PageActorDep, session: SessionDep
              ) -> Response:
    """Open a draft week starting on a Monday."""
    actor.require(Role.coordinator)
    t = translator_for(request)
    try:
        data = validate(WeekIn, {"starts_on": text(form, "starts_on")}, t.locale)
        week = weeks.create_week(session, actor=actor, data=data)
    except FormInvalid as exc:
        return _weeks_page(request, session, actor, errors=exc.errors, status_code=422)
    except InvalidInput as exc:
        invalid = domain_errors(exc, t.locale)
        return _weeks_page(request, session, actor, errors=invalid.errors,
                           form_error=invalid.summary, status_code=422)
    response = redirect(f"/weeks/{week.id}")
    flash(request, response, t.gettext("Semaine ouverte."))
    return response


def allocation_summary(session: Session, actor: Actor, week: Week, locale: str
                       ) -> dict[str, Any] | None:
    """The stored allocation's figures for the page, or None before the first allocation."""
    try:
        stored = allocation.get_allocation(session, actor=actor, week_id=week.id)
    except NotFound:
        return None
    metrics = stored["metrics"]
    return {
        **stored,
        "binding": allocation.localise_binding(stored["binding"], locale),
        "min_coverage": float(metrics.get("min_coverage", 0.0)),
        "mean_coverage": float(metrics.get("mean_coverage", 0.0)),
        "kg_allocated": sum(float(n["kg"]) for n in stored["neighbourhoods"]),
        "kg_left": sum(float(u["kg"]) for u in stored["unallocated"]),
        "households": sum(int(n["households"]) for n in stored["neighbourhoods"]),
    }


@router.get("/weeks/{week_id}")
def week_page(request: Request, week_id: uuid.UUID, actor: PageActorDep, session: SessionDep
              ) -> Response:
    """The week at a glance: supply, households and allocation per neighbourhood, the map."""
    week = weeks.get_week(session, actor=actor, week_id=week_id)
    return render(request, "coordinator/week.html", {
        "week": week, "status_names": STATUS_NAMES, "category_names": CATEGORY_NAMES,
        "supply": supply_summary(session, actor, week),
        "neighbourhoods": households_by_neighbourhood(session, actor),
        "markers": map_markers(session, actor),
        "can_allocate": week.status not in (WeekStatus.published, WeekStatus.done),
        **rounds_pages.week_rounds_context(session, actor, week.id),
        "allocation": allocation_summary(session, actor, week, translator_for(request).locale),
        "publishable": week.status in (WeekStatus.allocated, WeekStatus.planned),
    })


@router.post("/weeks/{week_id}/publish")
def publish_week(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                 session: SessionDep) -> Response:
    """Publish the week: its allocation is frozen and associations see their baskets."""
    week = allocation.publish_week(session, actor=actor, week_id=week_id)
    response = redirect(f"/weeks/{week.id}")
    flash(request, response, translator_for(request).gettext("Semaine publiée."))
    return response


def _report_charts(report: reports.Report, locale: str) -> dict[str, Markup]:
    charts: dict[str, Markup] = {}
    t = Translator(locale)
    for section in report.sections:
        if section.chart is None or not section.rows:
            continue
        values = [float(row[section.chart.value]) for row in section.rows]
        if max(values) <= 0:
            continue  # a chart of zeros says nothing the table does not
        unit = next((c.unit for c in section.columns if c.key == section.chart.value), "")
        charts[section.key] = bar_chart(
            [str(row[section.chart.label]) for row in section.rows], values,
            title=section.en if locale == "en" else section.fr, unit=unit,
            orientation=section.chart.orientation,
            number=lambda value: t.number(value, 0 if value >= 100 or value % 1 == 0 else 1))
    return charts


@router.get("/weeks/{week_id}/report")
def report_page(request: Request, week_id: uuid.UUID, actor: PageActorDep, session: SessionDep
                ) -> Response:
    """The weekly report with its charts (SVG drawn here), printable on A4."""
    report = reports.weekly_report(session, actor=actor, week_id=week_id)
    locale = translator_for(request).locale
    return render(request, "coordinator/report.html", {
        "week": report.week, "report": report.as_dict(locale), "allocated": report.allocated,
        "charts": _report_charts(report, locale), "status_names": STATUS_NAMES,
    })


@router.get("/weeks/{week_id}/report.xlsx")
def report_document(request: Request, week_id: uuid.UUID, actor: PageActorDep,
                    session: SessionDep) -> Response:
    """The weekly report as an XLSX workbook, one sheet per section."""
    report = reports.weekly_report(session, actor=actor, week_id=week_id)
    name = f"rapport-{report.week.starts_on.isoformat()}.xlsx"
    return Response(report_workbook(report, translator_for(request).locale),
                    media_type=MEDIA_TYPES["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _supply_context(session: Session, actor: Actor, week: Week) -> dict[str, Any]:
    lots = list(session.scalars(supply.lots_query(session, actor=actor, week_id=week.id)))
    farmers = list(session.scalars(supply.farmers_query(actor)))
    products = list(session.scalars(supply.products_query()))
    return {
        "week": week, "lots": lots, "farmers": farmers, "products": products,
        "farmer_names": {f.id: f.name for f in farmers},
        "farmer_options": [(f.id, f.name) for f in farmers],
        "product_options": [(p.id, f"{p.name}") for p in products],
        "product_names": {p.id: p.name for p in products},
        "category_names": CATEGORY_NAMES, "status_names": STATUS_NAMES,
        "editable": week.status in supply.EDITABLE_WEEK,
        "values": {"harvest_date": week.starts_on.isoformat(),
                   "pickup_day": week.starts_on.isoformat(),
                   "pickup_start": "07:00", "pickup_end": "10:00"},
        "paste": "", "paste_errors": [],
    }


@router.get("/weeks/{week_id}/supply")
def supply_page(request: Request, week_id: uuid.UUID, actor: PageActorDep,
                session: SessionDep) -> Response:
    """The week's lots, the entry form and the bulk paste."""
    week = weeks.get_week(session, actor=actor, week_id=week_id)
    return render(request, "coordinator/supply.html", _supply_context(session, actor, week))


def _lot_values(form: Any) -> dict[str, Any]:
    day, start, end = text(form, "pickup_day"), text(form, "pickup_start"), \
        text(form, "pickup_end")
    values: dict[str, Any] = {
        "farmer_id": text(form, "farmer_id"), "product_id": text(form, "product_id"),
        "quantity_kg": number(form, "quantity_kg"), "price_per_kg": number(form, "price_per_kg"),
        "harvest_date": text(form, "harvest_date"),
    }
    for name, hhmm in (("pickup_start", start), ("pickup_end", end)):
        try:
            moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm),
                                      tzinfo=PARIS_TZ)
            values[name] = moment.isoformat()
        except ValueError:
            values[name] = f"{day} {hhmm}"
    return values


@router.post("/weeks/{week_id}/lots")
def add_lot(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
            session: SessionDep) -> Response:
    """Enter one lot through the service (same checks as the API)."""
    week = weeks.get_week(session, actor=actor, week_id=week_id)
    t = translator_for(request)
    try:
        data = validate(LotIn, _lot_values(form), t.locale)
        supply.create_lot(session, actor=actor, week_id=week.id, data=data)
    except FormInvalid as exc:
        return _supply_error(request, session, actor, week, form, exc)
    except InvalidInput as exc:
        return _supply_error(request, session, actor, week, form, domain_errors(exc, t.locale))
    response = redirect(f"/weeks/{week.id}/supply")
    flash(request, response, t.gettext("Lot enregistré."))
    return response


def _supply_error(request: Request, session: Session, actor: Actor, week: Week, form: Any,
                  exc: FormInvalid) -> Response:
    session.rollback()  # nothing is written when the form is refused
    context = _supply_context(session, actor, week)
    context["values"] = {key: text(form, key) for key in (
        "farmer_id", "product_id", "quantity_kg", "price_per_kg", "harvest_date",
        "pickup_day", "pickup_start", "pickup_end")}
    errors = dict(exc.errors)
    for name in ("pickup_start", "pickup_end"):
        if name in errors:
            errors.setdefault("pickup_day", errors[name])
    context["errors"] = errors
    context["form_error"] = exc.summary or errors.get("__all__") or translator_for(
        request).gettext("Certaines valeurs sont invalides ; rien n'a été enregistré.")
    return render(request, "coordinator/supply.html", context, status_code=422)


@router.post("/weeks/{week_id}/lots/paste")
def paste_lots(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
               session: SessionDep) -> Response:
    """Enter many lots pasted from a spreadsheet: all of them, or none if a line is wrong."""
    week = supply.editable_week(session, actor, week_id)
    t = translator_for(request)
    pasted = text(form, "paste")
    farmers = list(session.scalars(supply.farmers_query(actor)))
    products = list(session.scalars(supply.products_query()))
    parsed = parse_paste(pasted, farmers={f.name: f.id for f in farmers},
                         farmer_sirets={f.siret: f.id for f in farmers},
                         products={p.name: p.id for p in products})
    errors = list(parsed.errors)
    valid: list[LotIn] = []
    for line, row in parsed.rows:
        try:
            valid.append(validate(LotIn, row, t.locale))
        except FormInvalid as exc:
            errors.append((line, " ".join(f"{k}: {v}" for k, v in exc.errors.items())))
    if not parsed.rows and not errors:
        errors.append((0, t.gettext("Aucune ligne à enregistrer.")))
    if errors:
        session.rollback()
        context = _supply_context(session, actor, week)
        context.update(paste=pasted, paste_errors=sorted(errors),
                       form_error=t.gettext("Rien n'a été enregistré : corrigez les lignes "
                                            "signalées."))
        return render(request, "coordinator/supply.html", context, status_code=422)
    for data in valid:
        supply.create_lot(session, actor=actor, week_id=week.id, data=data)
    response = redirect(f"/weeks/{week.id}/supply")
    flash(request, response, t.ngettext("%(num)s lot enregistré.", "%(num)s lots enregistrés.",
                                        len(valid)))
    return response


@router.post("/lots/{lot_id}/delete")
def delete_lot(request: Request, lot_id: uuid.UUID, form: FormDep, actor: PageActorDep,
               session: SessionDep) -> Response:
    """Withdraw a lot while the week is not published."""
    lot = supply.get_lot(session, actor=actor, lot_id=lot_id)
    week_id = lot.week_id
    supply.delete_lot(session, actor=actor, lot_id=lot_id)
    response = redirect(f"/weeks/{week_id}/supply")
    flash(request, response, translator_for(request).gettext("Lot retiré."))
    return response


@router.get("/farmers")
def farmers_page(request: Request, actor: PageActorDep, session: SessionDep,
                 q: str | None = None) -> Response:
    """The team's farmers, searchable by name, with their farms on a map."""
    listed = list(session.scalars(supply.farmers_query(actor, q=q)))
    return render(request, "coordinator/farmers.html", {
        "farmers": listed, "q": q or "",
        "markers": [{"kind": "farm", "name": f.name, "lat": f.lat, "lon": f.lon}
                    for f in listed],
    })
