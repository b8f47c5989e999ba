"""The round sheet as a driver uses it on the road: one stop at a time, what to do there.

`service.sheet()` gives the stored round and its stops; this module adds what a driver needs
and the database does not say directly: local times, the wait before a place opens, a window
that is really "all day", kilos to 0.1 kg and pieces for products sold by the piece, the
place's phone, and navigation links that work on iOS and Android (an https maps link with the
coordinates; a `geo:` link for Android apps). Read-only: it never writes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.common.scope import Actor
from baskets.rounds import service
from baskets.supply.models import Farmer, Product
from baskets.territory.models import DistributionPoint


@dataclass(frozen=True)
class Load:
    """One product to load or hand over at a stop."""

    product: str
    kg: float  # to 0.1 kg
    pieces: int | None  # for products sold by the piece


@dataclass(frozen=True)
class FieldStop:
    """One stop as the driver reads it."""

    id: uuid.UUID
    position: int
    kind: str  # "pickup", "delivery" or "hub"
    name: str
    address: str
    lat: float
    lon: float
    arrival: datetime  # local
    window_start: datetime  # local
    window_end: datetime  # local
    all_day: bool  # the window is the whole day: no time to keep
    wait_minutes: int  # arriving before the window opens
    kg_loaded: float
    kg_delivered: float
    loads: tuple[Load, ...]
    refrigerated: bool
    phone: str | None
    tel_uri: str | None
    navigation_url: str
    geo_uri: str
    status: str  # "pending", "done" or "problem"
    note: str | None

    @property
    def pending(self) -> bool:
        """Not done nor reported yet."""
        return self.status == "pending"


@dataclass(frozen=True)
class FieldSheet:
    """A round's stops in order, the one to do now, and what is done."""

    stops: tuple[FieldStop, ...]
    current: int | None  # index of the first stop still to do
    done: int
    problems: int

    def next_after(self, index: int) -> FieldStop | None:
        """The stop after `index`, if any."""
        return self.stops[index + 1] if index + 1 < len(self.stops) else None


def navigation_links(template: str, lat: float, lon: float, label: str) -> tuple[str, str]:
    """An https link from `template` ({lat}, {lon}) and a `geo:` URI (Android), both
    carrying the coordinates; the label names the place in Android's apps."""
    https = template.format(lat=f"{lat:.6f}", lon=f"{lon:.6f}")
    # Parentheses would end the label early in the geo: query.
    safe = re.sub(r"[()]", " ", label).strip()
    geo = f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({quote(safe)})"
    return https, geo


def tel_uri(phone: str | None) -> str | None:
    """A `tel:` link of a French number as people write it ("06 39 98 12 34")."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9+]", "", phone)
    return f"tel:{digits}" if len(digits) >= 6 else None


def _loads(items: list[dict[str, Any]], unit_kg: dict[str, float]) -> tuple[Load, ...]:
    loads = []
    for item in items:
        kg = float(item["kg"])
        if round(kg, 1) <= 0:
            continue
        unit = unit_kg.get(str(item["product"]))
        pieces = max(1, round(kg / unit)) if unit else None
        loads.append(Load(str(item["product"]), round(kg, 1), pieces))
    return tuple(loads)


def field_sheet(session: Session, *, actor: Actor, round_id: uuid.UUID, timezone: str,
                navigation_url: str) -> tuple[dict[str, Any], FieldSheet]:
    """The round's sheet (as `service.sheet` scopes it) and its stops for the road."""
    sheet = service.sheet(session, actor=actor, round_id=round_id)
    tz = ZoneInfo(timezone)
    stops = sheet["stops"]
    names = {str(item["product"]) for stop in stops for item in stop["items"]}
    unit_kg = {name: float(unit) for name, unit in session.execute(
        select(Product.name, Product.unit_kg).where(Product.name.in_(names))) if unit}
    # Phones of the round's own places (ids read from a round the actor may see).
    farm_ids = {s["farmer_id"] for s in stops if s["farmer_id"]}
    point_ids = {s["distribution_point_id"] for s in stops if s["distribution_point_id"]}
    phones: dict[uuid.UUID, str | None] = {}
    if farm_ids:
        phones.update(session.execute(select(Farmer.id, Farmer.contact_phone)
                                      .where(Farmer.id.in_(farm_ids))).all())
    if point_ids:
        phones.update(session.execute(
            select(DistributionPoint.id, DistributionPoint.contact_phone)
            .where(DistributionPoint.id.in_(point_ids))).all())
    field: list[FieldStop] = []
    for stop in stops:
        arrival = stop["arrival_at"].astimezone(tz)
        start, end = stop["window_start"].astimezone(tz), stop["window_end"].astimezone(tz)
        all_day = (start.hour, start.minute) == (0, 0) and end - start >= timedelta(hours=23,
                                                                                    minutes=59)
        wait = 0 if all_day else max(0, round((start - arrival).total_seconds() / 60))
        phone = phones.get(stop["farmer_id"] or stop["distribution_point_id"])
        https, geo = navigation_links(navigation_url, stop["lat"], stop["lon"], stop["name"])
        field.append(FieldStop(
            id=stop["id"], position=stop["position"], kind=stop["kind"].value,
            name=stop["name"], address=stop["address"], lat=stop["lat"], lon=stop["lon"],
            arrival=arrival, window_start=start, window_end=end, all_day=all_day,
            wait_minutes=wait, kg_loaded=round(stop["kg_loaded"], 1),
            kg_delivered=round(stop["kg_delivered"], 1),
            loads=_loads(stop["items"], unit_kg), refrigerated=stop["refrigerated"],
            phone=phone, tel_uri=tel_uri(phone), navigation_url=https, geo_uri=geo,
            status=stop["status"].value, note=stop["note"]))
    current = next((k for k, s in enumerate(field) if s.pending), None)
    return sheet, FieldSheet(
        stops=tuple(field), current=current,
        done=sum(1 for s in field if s.status == "done"),
        problems=sum(1 for s in field if s.status == "problem"))
