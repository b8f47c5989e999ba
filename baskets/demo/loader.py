"""Load the realistic demo fixtures (fixtures/demo/*.json) into a migrated database.

References between files use stable `key` strings; dates are offsets from the week's Monday,
so the demo always shows the current week.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.accounts.security import hash_password
from baskets.households.models import Household, ReferralReason
from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory
from baskets.volunteers.models import Vehicle, VehicleKind, Volunteer
from baskets.weeks.models import DEFAULT_POLICY, Week

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
PARIS = ZoneInfo("Europe/Paris")


class FixtureError(ValueError):
    """A fixture file that does not match the documented format."""


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False


def monday_of(day: date) -> date:
    """The Monday of the week containing `day`."""
    return day - timedelta(days=day.weekday())


def _read(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FixtureError(f"missing fixture file {path}") from exc
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, list):
        raise FixtureError(f"{path}: a JSON list is expected")
    return data


def _ref(table: dict[str, uuid.UUID], key: str, what: str) -> uuid.UUID:
    try:
        return table[key]
    except KeyError as exc:
        raise FixtureError(f"unknown {what} key {key!r}") from exc


def _at(day: date, hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=PARIS).astimezone(UTC)


def load_demo(
    session: Session, *, directory: Path = DEFAULT_FIXTURES, week_start: date | None = None
) -> LoadReport:
    """Insert every demo record once; a database that already holds them is left as it is."""
    report = LoadReport()
    territories = _read(directory, "territories")
    codes = [t["code"] for t in territories]
    if session.scalar(select(Territory.id).where(Territory.code.in_(codes))) is not None:
        report.skipped = True
        return report
    monday = monday_of(week_start or date.today())
    ids: dict[str, dict[str, uuid.UUID]] = {}

    def add_all(kind: str, rows: Sequence[tuple[str | None, Any]]) -> None:
        table = ids.setdefault(kind, {})
        for key, record in rows:
            session.add(record)
            if key is not None:
                table[key] = record.id
        session.flush()
        report.counts[kind] = report.counts.get(kind, 0) + len(rows)

    def new_id() -> uuid.UUID:
        return uuid.uuid4()

    add_all("territories", [
        (t["key"], Territory(id=new_id(), code=t["code"], name=t["name"])) for t in territories
    ])
    add_all("organisations", [
        (o["key"], Organisation(
            id=new_id(), name=o["name"], kind=OrganisationKind(o["kind"]),
            territory_id=_ref(ids["territories"], o["territory"], "territory"),
            siret=o.get("siret"), pact_signatory=bool(o.get("pact_signatory")),
            agreement_hours=o.get("agreement_hours"), hourly_cost=o.get("hourly_cost")))
        for o in _read(directory, "organisations")
    ])
    # One hash for the shared demo password: argon2 is slow on purpose, once is enough here.
    hashes: dict[str, str] = {}

    def password_hash(password: str) -> str:
        if password not in hashes:
            hashes[password] = hash_password(password)
        return hashes[password]

    add_all("users", [
        (u["email"], User(
            id=new_id(), email=u["email"].lower(), full_name=u["full_name"], role=Role(u["role"]),
            organisation_id=_ref(ids["organisations"], u["organisation"], "organisation"),
            password_hash=password_hash(u["password"])))
        for u in _read(directory, "users")
    ])
    add_all("neighbourhoods", [
        (n["key"], Neighbourhood(
            id=new_id(), territory_id=_ref(ids["territories"], n["territory"], "territory"),
            name=n["name"], qpv_code=n["qpv_code"], lat=n["lat"], lon=n["lon"]))
        for n in _read(directory, "neighbourhoods")
    ])
    add_all("distribution_points", [
        (p["key"], DistributionPoint(
            id=new_id(), organisation_id=_ref(ids["organisations"], p["organisation"], "org"),
            neighbourhood_id=_ref(ids["neighbourhoods"], p["neighbourhood"], "neighbourhood"),
            name=p["name"], address=p["address"], lat=p["lat"], lon=p["lon"],
            opening_hours=p.get("opening_hours", []), capacity_kg=p.get("capacity_kg"),
            capacity_baskets=p.get("capacity_baskets"), contact_phone=p.get("contact_phone")))
        for p in _read(directory, "distribution_points")
    ])
    add_all("farmers", [
        (f["key"], Farmer(
            id=new_id(), organisation_id=_ref(ids["organisations"], f["organisation"], "org"),
            name=f["name"], siret=f["siret"], address=f["address"], lat=f["lat"], lon=f["lon"],
            contact_phone=f.get("contact_phone")))
        for f in _read(directory, "farmers")
    ])
    add_all("products", [
        (p["key"], Product(
            id=new_id(), name=p["name"], category=Category(p["category"]),
            unit_kg=p.get("unit_kg"), shelf_life_days=p["shelf_life_days"]))
        for p in _read(directory, "products")
    ])
    teams = {
        o["key"]: ids["organisations"][o["key"]]
        for o in _read(directory, "organisations") if o["kind"] == "food_team"
    }
    add_all("weeks", [
        (team_key, Week(id=new_id(), organisation_id=team_id, starts_on=monday,
                        policy=dict(DEFAULT_POLICY)))
        for team_key, team_id in teams.items()
    ])
    farmer_team = {
        f["key"]: _ref(ids["organisations"], f["organisation"], "org")
        for f in _read(directory, "farmers")
    }
    week_of_team = {team_id: ids["weeks"][key] for key, team_id in teams.items()}
    units_of = {p["key"]: p.get("unit_kg") for p in _read(directory, "products")}
    lots = []
    for lot in _read(directory, "lots"):
        team_id = farmer_team[lot["farmer"]]
        pickup_day = monday + timedelta(days=int(lot["pickup_weekday"]))
        unit_kg = units_of.get(lot["product"])
        lots.append((None, SupplyLot(
            id=new_id(), organisation_id=team_id, week_id=week_of_team[team_id],
            farmer_id=_ref(ids["farmers"], lot["farmer"], "farmer"),
            product_id=_ref(ids["products"], lot["product"], "product"),
            quantity_kg=lot["quantity_kg"],
            units=max(1, round(lot["quantity_kg"] / unit_kg)) if unit_kg else None,
            harvest_date=monday + timedelta(days=int(lot["harvest_offset_days"])),
            pickup_start=_at(pickup_day, lot["pickup_start"]),
            pickup_end=_at(pickup_day, lot["pickup_end"]),
            price_per_kg=lot["price_per_kg"])))
    add_all("lots", lots)
    households = []
    for h in _read(directory, "households"):
        households.append((None, Household(
            id=new_id(), organisation_id=_ref(ids["organisations"], h["organisation"], "org"),
            reference=h["reference"], contact_name=h.get("contact_name"), phone=h.get("phone"),
            address=h.get("address"), adults=h["adults"], children=h.get("children", 0),
            infants=h.get("infants", 0),
            neighbourhood_id=_ref(ids["neighbourhoods"], h["neighbourhood"], "neighbourhood"),
            distribution_point_id=_ref(ids["distribution_points"], h["point"], "point"),
            excluded_products=[
                str(_ref(ids["products"], key, "product")) for key in h.get("excluded_products", [])
            ],
            excluded_categories=[Category(c).value for c in h.get("excluded_categories", [])],
            referral_reason=ReferralReason(h["referral_reason"]),
            valid_until=monday + timedelta(days=int(h["valid_until_offset_days"])),
            consent_date=monday + timedelta(days=int(h["consent_offset_days"])),
            last_contact_date=monday + timedelta(days=int(h["last_contact_offset_days"])))))
    add_all("households", households)
    volunteer_users, volunteers = [], []
    for v in _read(directory, "volunteers"):
        team_id = _ref(ids["organisations"], v["organisation"], "org")
        user = User(id=new_id(), email=v["email"].lower(), full_name=v["full_name"],
                    role=Role.volunteer, organisation_id=team_id,
                    password_hash=password_hash(v.get("password", "paniers-demo")))
        volunteer_users.append((v["email"], user))
        volunteers.append((v["email"], Volunteer(
            id=new_id(), user_id=user.id, organisation_id=team_id, home_area=v["home_area"],
            lat=v["lat"], lon=v["lon"], vehicle_kind=VehicleKind(v["vehicle_kind"]),
            capacity_kg=v.get("capacity_kg", 0.0), refrigerated=bool(v.get("refrigerated")),
            hours_per_month=v.get("hours_per_month", 0.0),
            max_rounds_per_month=v.get("max_rounds_per_month", 4), skills=v.get("skills", {}),
            availability=v.get("availability", []), remote_ok=bool(v.get("remote_ok")),
            max_km=v.get("max_km", 10.0))))
    add_all("volunteer_users", volunteer_users)
    add_all("volunteers", volunteers)
    add_all("vehicles", [
        (x["key"], Vehicle(
            id=new_id(), organisation_id=_ref(ids["organisations"], x["organisation"], "org"),
            name=x["name"], kind=VehicleKind(x.get("kind", "van")), capacity_kg=x["capacity_kg"],
            refrigerated=bool(x.get("refrigerated")), depot_lat=x["depot_lat"],
            depot_lon=x["depot_lon"], shift_start=x["shift_start"], shift_end=x["shift_end"],
            max_duration_min=x["max_duration_min"]))
        for x in _read(directory, "vehicles")
    ])
    add_all("offers", [
        (o["key"], Offer(
            id=new_id(), organisation_id=_ref(ids["organisations"], o["organisation"], "org"),
            title=o["title"], skills=o["skills"], hours=o["hours"],
            starts_on=monday + timedelta(days=int(o["start_offset_days"])),
            ends_on=monday + timedelta(days=int(o["end_offset_days"])),
            on_site=bool(o.get("on_site", True)), remote_ok=bool(o.get("remote_ok")),
            lat=o["lat"], lon=o["lon"], max_km=o["max_km"],
            min_chunk_hours=o.get("min_chunk_hours", 1.0)))
        for o in _read(directory, "offers")
    ])
    add_all("projects", [
        (p["key"], Project(
            id=new_id(), organisation_id=_ref(ids["organisations"], p["organisation"], "org"),
            neighbourhood_id=_ref(ids["neighbourhoods"], p["neighbourhood"], "neighbourhood"),
            title=p["title"], description=p.get("description", ""),
            remote_ok=bool(p.get("remote_ok")),
            starts_on=monday + timedelta(days=int(p["start_offset_days"])),
            ends_on=monday + timedelta(days=int(p["end_offset_days"])),
            lat=p["lat"], lon=p["lon"],
            needs=[ProjectNeed(position=i, skill=n["skill"], min_level=n.get("min_level", 1),
                               hours=n["hours"]) for i, n in enumerate(p["needs"])]))
        for p in _read(directory, "projects")
    ])
    return report
