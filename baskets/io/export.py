"""Exports to CSV and XLSX: one function per table, one renderer for every table.

Adding an export is one function `(session, actor, ...) -> Table` plus a line in `EXPORTS`;
`render` writes any Table as CSV (semicolon, decimal comma, UTF-8 with BOM, as French Excel
expects) or XLSX. Every text cell that a spreadsheet could take for a formula (starting with
= + - @, a tab or a carriage return) is written with a leading apostrophe, so no formula is
ever written back. The households, lots and volunteers tables use the import headers, so an
export can be edited and imported again.
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role, User
from baskets.allocation import service as allocation
from baskets.allocation.models import AllocatedBasket
from baskets.allocation.packing import describe
from baskets.common.scope import Actor, owned
from baskets.households.models import Household
from baskets.io.columns import (
    CATEGORY_LABELS,
    COLUMNS,
    REFERRAL_LABELS,
    VEHICLE_LABELS,
    Kind,
    format_availability,
)
from baskets.supply import service as supply
from baskets.supply.models import Farmer, Product
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.volunteers.models import Volunteer

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """A named table ready to render: `name` is the file stem, `frame` the rows."""

    name: str
    frame: pd.DataFrame


def escape_cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading apostrophe; other values are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def render(table: Table, fmt: Format) -> bytes:
    """The table as CSV or XLSX bytes, every cell escaped."""
    frame = table.frame.map(escape_cell)
    frame.columns = [escape_cell(str(column)) for column in frame.columns]
    if fmt == "csv":
        text = frame.to_csv(sep=";", index=False, decimal=",", lineterminator="\r\n")
        return text.encode("utf-8-sig")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=table.name[:31])
    return buffer.getvalue()


def render_workbook(tables: list[Table]) -> bytes:
    """Several tables as one XLSX workbook, a sheet each (names cut to 31 characters, unique)."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for table in tables:
            name = "".join(c for c in table.name if c not in "[]:*?/\\")[:31]
            while name in used:
                name = name[:28] + f"~{len(used)}"
            used.add(name)
            frame = table.frame.map(escape_cell)
            frame.columns = [escape_cell(str(column)) for column in frame.columns]
            frame.to_excel(writer, index=False, sheet_name=name)
    return buffer.getvalue()


def filename(table: Table, fmt: Format) -> str:
    return f"{table.name}.{fmt}"


def _label(labels: dict[str, str]) -> dict[str, str]:
    """Stored value -> first French label."""
    first: dict[str, str] = {}
    for label, value in labels.items():
        first.setdefault(value, label)
    return first


_REFERRAL = _label(REFERRAL_LABELS)
_CATEGORY = _label(CATEGORY_LABELS)
_VEHICLE = _label(VEHICLE_LABELS)


def _fr_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _fr_datetime(value: datetime, tz: ZoneInfo) -> str:
    if value.tzinfo is None:
        # SQLite keeps the wall clock it was given (local time for our imports), no offset.
        return value.strftime("%d/%m/%Y %H:%M")
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _frame(kind: Kind, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = COLUMNS[kind]
    data = {column.header: [row.get(column.field) for row in rows] for column in columns}
    return pd.DataFrame(data, columns=[column.header for column in columns])


def households_table(session: Session, *, actor: Actor) -> Table:
    """The association's active households, with the households import's columns."""
    actor.require(Role.association)
    neighbourhoods = dict(session.execute(select(Neighbourhood.id, Neighbourhood.name)).all())
    points = dict(session.execute(owned(DistributionPoint, actor)
                                  .with_only_columns(DistributionPoint.id,
                                                     DistributionPoint.name)).all())
    products = {str(pid): name for pid, name in session.execute(
        select(Product.id, Product.name)).all()}
    rows = []
    for household in session.scalars(owned(Household, actor)
                                     .where(Household.archived_at.is_(None))
                                     .order_by(Household.reference)):
        rows.append({
            "reference": household.reference,
            "contact_name": household.contact_name or "",
            "phone": household.phone or "",
            "address": household.address or "",
            "adults": household.adults,
            "children": household.children,
            "infants": household.infants,
            "neighbourhood_id": neighbourhoods.get(household.neighbourhood_id, ""),
            "distribution_point_id": points.get(household.distribution_point_id, ""),
            "excluded_products": ", ".join(products.get(str(p), str(p))
                                           for p in household.excluded_products),
            "excluded_categories": ", ".join(_CATEGORY.get(str(c), str(c))
                                             for c in household.excluded_categories),
            "referral_reason": _REFERRAL.get(str(household.referral_reason.value),
                                             str(household.referral_reason.value)),
            "valid_until": _fr_date(household.valid_until),
            "consent_date": _fr_date(household.consent_date),
            "last_contact_date": _fr_date(household.last_contact_date),
        })
    return Table(name="foyers", frame=_frame("households", rows))


def lots_table(session: Session, *, actor: Actor, week_id: uuid.UUID, tz: ZoneInfo) -> Table:
    """The lots of one of the food team's weeks, with the lots import's columns."""
    lots = session.scalars(supply.lots_query(session, actor=actor, week_id=week_id)).all()
    farmers = dict(session.execute(owned(Farmer, actor)
                                   .with_only_columns(Farmer.id, Farmer.name)).all())
    products = dict(session.execute(select(Product.id, Product.name)).all())
    rows = [{
        "farmer_id": farmers.get(lot.farmer_id, ""),
        "product_id": products.get(lot.product_id, ""),
        "quantity_kg": lot.quantity_kg,
        "units": lot.units if lot.units is not None else "",
        "harvest_date": _fr_date(lot.harvest_date),
        "pickup_start": _fr_datetime(lot.pickup_start, tz),
        "pickup_end": _fr_datetime(lot.pickup_end, tz),
        "price_per_kg": lot.price_per_kg,
    } for lot in lots]
    return Table(name="lots", frame=_frame("lots", rows))


def _yes(value: bool) -> str:
    return "oui" if value else "non"


def volunteers_table(session: Session, *, actor: Actor) -> Table:
    """The food team's volunteers, with the volunteers import's columns."""
    actor.require(Role.coordinator)
    pairs = session.execute(
        select(Volunteer, User).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.organisation_id == actor.organisation_id)
        .order_by(User.email)
    ).all()
    rows = [{
        "email": user.email,
        "full_name": user.full_name,
        "home_area": volunteer.home_area,
        "lat": volunteer.lat,
        "lon": volunteer.lon,
        "vehicle_kind": _VEHICLE.get(str(volunteer.vehicle_kind.value), ""),
        "capacity_kg": volunteer.capacity_kg,
        "refrigerated": _yes(volunteer.refrigerated),
        "hours_per_month": volunteer.hours_per_month,
        "max_rounds_per_month": volunteer.max_rounds_per_month,
        "skills": ", ".join(f"{name}:{level}" for name, level in volunteer.skills.items()),
        "availability": format_availability(volunteer.availability),
        "remote_ok": _yes(volunteer.remote_ok),
        "max_km": volunteer.max_km,
    } for volunteer, user in pairs]
    return Table(name="benevoles", frame=_frame("volunteers", rows))


def hours_given_table(session: Session, *, actor: Actor) -> Table:
    """The company's hours given per project and neighbourhood, their value, tax reduction."""
    from baskets.engagements import service  # it imports this module for Table

    return service.hours_given_table(session, actor=actor)


BASKET_HEADERS = ("Point de distribution", "Quartier", "Foyer", "Unités de consommation",
                  "Besoin (kg)", "Panier (kg)", "Couverture (%)", "Contenu", "Retiré")


def baskets_table(session: Session, *, actor: Actor, week_id: uuid.UUID,
                  point_id: uuid.UUID | None = None) -> Table:
    """A week's baskets, sorted by distribution point: an association's own households (with
    their reference), or every basket for the food team (pseudonymous household ids)."""
    query = allocation.baskets_query(session, actor=actor, week_id=week_id, point_id=point_id)
    baskets = session.scalars(query.order_by(None).order_by(
        AllocatedBasket.distribution_point_id, AllocatedBasket.household_id)).all()
    points = dict(session.execute(select(DistributionPoint.id, DistributionPoint.name)
                                  .where(DistributionPoint.id.in_(
                                      {b.distribution_point_id for b in baskets}))).all())
    neighbourhoods = dict(session.execute(select(Neighbourhood.id, Neighbourhood.name)).all())
    # Contents as packed: 0.1 kg or pieces, the same rounding as the point's page.
    by_point: dict[uuid.UUID, list[AllocatedBasket]] = defaultdict(list)
    for b in baskets:
        by_point[b.distribution_point_id].append(b)
    packed = {point_id: allocation.packed_baskets(session, group)
              for point_id, group in by_point.items()}
    references: dict[uuid.UUID, str] = {}
    if actor.role is Role.association:
        references = dict(session.execute(
            owned(Household, actor).with_only_columns(Household.id, Household.reference)
            .where(Household.id.in_({b.household_id for b in baskets}))).all())
    collected = {True: "oui", False: "non", None: ""}
    rows = [(
        points.get(b.distribution_point_id, ""), neighbourhoods.get(b.neighbourhood_id, ""),
        references.get(b.household_id, str(b.household_id)), round(b.consumption_units, 2),
        round(b.need_kg, 2), round(b.kg, 2), round(100 * b.coverage, 1),
        describe(packed[b.distribution_point_id].portions[b.id]), collected[b.collected],
    ) for b in baskets]
    rows.sort(key=lambda row: (row[0], row[2]))
    return Table(name="paniers", frame=pd.DataFrame(rows, columns=list(BASKET_HEADERS)))


# Exports that take only the actor; those tied to a week take week_id (and the time zone).
# Rounds come with their own domain; the weekly report is baskets.reports.
EXPORTS: dict[str, Callable[..., Table]] = {
    "households": households_table,
    "lots": lots_table,
    "volunteers": volunteers_table,
    "hours_given": hours_given_table,
    "baskets": baskets_table,
}
