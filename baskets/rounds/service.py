"""Plan a week's rounds from its allocation, store them, and serve them to drivers.

Planning (`plan_week_rounds`) is a plain function of the session so it can run inside a
request or a background job. The week's produce goes through the team's hub (the first van's
depot): collection rounds bring each farm's allocated kg there within the lots' pick-up
windows; delivery rounds take each point's kg from the hub to arrive within
`delivery_lead_minutes` before the point's first opening after everything is collected. Each
day is one routing problem (`baskets.optimizer.routing`), stored with the plan so a re-plan
after a vehicle drops out keeps the other rounds as they are.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from baskets.accounts.models import Role, User
from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.common.scope import Actor, get_owned, owned
from baskets.config import Settings
from baskets.db import utcnow
from baskets.errors import ConfirmationRequired, Conflict, InvalidInput, NotFound
from baskets.matching import drivers as matching
from baskets.matching.projects import distance_km
from baskets.optimizer import routing
from baskets.rounds.availability import day_en, day_fr, day_slots, within_availability
from baskets.rounds.models import (
    Round,
    RoundPlan,
    RoundStatus,
    RoundStop,
    StopKind,
    StopStatus,
    UnservedStop,
)
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint
from baskets.volunteers.models import Vehicle, VehicleKind, Volunteer
from baskets.weeks.models import Week, WeekStatus

WEEK = ("Semaine", "Week")
ROUND = ("Tournée", "Round")
STOP = ("Étape", "Stop")
FROZEN = (WeekStatus.published, WeekStatus.done)
DAY_END = 24 * 60 - 1


@dataclass(frozen=True)
class PlanningOptions:
    """The settings planning depends on."""

    timezone: str = "Europe/Paris"
    perishable_shelf_life_days: int = 5
    delivery_lead_minutes: int = 120
    road_factor: float = 1.3

    @classmethod
    def from_settings(cls, settings: Settings) -> PlanningOptions:
        """The options of `settings`."""
        return cls(settings.timezone, settings.perishable_shelf_life_days,
                   settings.delivery_lead_minutes, settings.road_factor)


# ---------------------------------------------------------------------------- building


def _hhmm(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def _minutes_of(moment: datetime, day: date, tz: ZoneInfo) -> float:
    local = moment.astimezone(tz)
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return (local - midnight).total_seconds() / 60.0


def _at(day: date, minutes: float, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(minutes=minutes)


def _items(weights: dict[str, float], share: float = 1.0) -> list[dict[str, Any]]:
    return [{"product": name, "kg": round(kg * share, 2)}
            for name, kg in sorted(weights.items()) if kg * share > 0.005]


def _chunks(kg: float, cap: float) -> int:
    return max(1, math.ceil(kg / cap - 1e-9)) if cap > 0 else 1


def week_allocation(session: Session, week: Week) -> Allocation:
    """The week's stored allocation, which rounds start from (422 without one)."""
    allocation = session.scalar(select(Allocation).where(Allocation.week_id == week.id))
    if allocation is None:
        raise InvalidInput("Allouez d'abord la semaine : les tournées partent de l'allocation.",
                           "Allocate the week first: rounds start from the allocation.")
    return allocation


def build_week_problem(session: Session, week: Week, options: PlanningOptions) -> dict[str, Any]:
    """The week's routing problems, one per day, as JSON-ready data with each stop's details.

    Returns ``{"days": {iso day: problem data}, "meta": {stop id: details},
    "vehicles": {vehicle id: details}, "unserved": [stops no day can take]}``.
    """
    tz = ZoneInfo(options.timezone)
    week_allocation(session, week)  # rounds start from it: 422 without one
    lot_kg: dict[str, float] = defaultdict(float)
    point_kg: dict[uuid.UUID, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    baskets = session.scalars(select(AllocatedBasket).where(AllocatedBasket.week_id == week.id))
    lots = {
        str(lot.id): (lot, product, farmer)
        for lot, product, farmer in session.execute(
            select(SupplyLot, Product, Farmer)
            .join(Product, Product.id == SupplyLot.product_id)
            .join(Farmer, Farmer.id == SupplyLot.farmer_id)
            .where(SupplyLot.week_id == week.id)
        )
    }

    def cold(product: Product) -> bool:
        return product.shelf_life_days <= options.perishable_shelf_life_days

    for basket in baskets:
        for item in basket.items:
            found = lots.get(item["lot_id"])
            if found is None:
                continue
            lot_kg[item["lot_id"]] += float(item["kg"])
            point_kg[basket.distribution_point_id][
                ("C|" if cold(found[1]) else "A|") + found[1].name] += float(item["kg"])

    meta: dict[str, dict[str, Any]] = {}
    stops_by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    unserved: list[dict[str, Any]] = []
    # Pick-ups: one per farm, window and cold chain, with the allocated kg of its lots.
    groups: dict[tuple[Any, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for lot_id, kg in sorted(lot_kg.items()):
        lot, product, farmer = lots[lot_id]
        if kg <= 0:
            continue
        key = (farmer.id, lot.pickup_start, lot.pickup_end, cold(product))
        groups[key][product.name] += kg
    farmers = {f.id: f for _lot, _p, f in lots.values()}
    ready = max((key[2] for key in groups), default=None)
    pickups: list[tuple[date, dict[str, Any]]] = []
    for (farmer_id, start, end, is_cold), weights in sorted(groups.items(),
                                                            key=lambda kv: str(kv[0])):
        farmer = farmers[farmer_id]
        day = start.astimezone(tz).date()
        pickups.append((day, {
            "kind": "pickup", "farmer_id": str(farmer.id), "point_id": None,
            "name": farmer.name, "address": farmer.address, "lat": farmer.lat, "lon": farmer.lon,
            "window": [_minutes_of(start, day, tz), min(_minutes_of(end, day, tz), DAY_END)],
            "kg": sum(weights.values()), "cold": is_cold, "weights": dict(weights)}))
    # Deliveries: each point's kg (cold and ambient apart) before its first opening that
    # comes after the last pick-up and the sorting at the hub.
    lead = options.delivery_lead_minutes
    hub_ready = ready + timedelta(minutes=lead) if ready is not None else None
    points = {p.id: p for p in session.scalars(
        select(DistributionPoint).where(DistributionPoint.id.in_(list(point_kg))))}
    deliveries: list[tuple[date, dict[str, Any]]] = []
    for point_id in sorted(point_kg, key=str):
        point = points[point_id]
        opening = _first_opening(point, week.starts_on, hub_ready, tz)
        for is_cold in (True, False):
            weights = {k[2:]: v for k, v in point_kg[point_id].items()
                       if k.startswith("C|" if is_cold else "A|") and v > 0}
            if not weights:
                continue
            details: dict[str, Any] = {
                       "kind": "delivery", "farmer_id": None, "point_id": str(point.id),
                       "name": point.name, "address": point.address, "lat": point.lat,
                       "lon": point.lon, "kg": sum(weights.values()), "cold": is_cold,
                       "weights": weights}
            if opening is None:
                unserved.append({**details, "ref": f"D-{point.id}-{int(is_cold)}",
                                 "reason": "point_closed",
                                 "message_fr": "Le point n'ouvre pas cette semaine après la "
                                               "collecte des produits.",
                                 "message_en": "The point does not open this week after the "
                                               "produce is collected."})
                continue
            day = opening.astimezone(tz).date()
            opens = _minutes_of(opening, day, tz)
            earliest = opens - lead
            if hub_ready is not None and hub_ready.astimezone(tz).date() == day:
                earliest = max(earliest, _minutes_of(hub_ready, day, tz))
            deliveries.append((day, {**details, "window": [max(0.0, earliest), opens]}))

    vehicles_by_day, vehicles_meta, hub_at = _vehicles(session, week, tz,
                                                       {d for d, _ in pickups + deliveries})
    for day, details in pickups + deliveries:
        fleet = vehicles_by_day.get(day, [])
        fit = [v["capacity_kg"] for v in fleet if v["refrigerated"] or not details["cold"]]
        parts = _chunks(details["kg"], max(fit, default=0.0))
        prefix = "P" if details["kind"] == "pickup" else "D"
        base = f"{prefix}{len(meta):03d}"
        for part in range(parts):
            stop_id = f"{base}-{part + 1}" if parts > 1 else base
            share = 1.0 / parts
            meta[stop_id] = {
                **{k: v for k, v in details.items() if k != "weights"},
                "day": day.isoformat(), "kg": round(details["kg"] * share, 3),
                "items": _items(details["weights"], share),
            }
            stops_by_day[day].append({
                "id": stop_id, "kind": details["kind"], "at": [details["lat"], details["lon"]],
                "window": details["window"], "kg": round(details["kg"] * share, 3),
                "refrigerated": details["cold"]})
    days: dict[str, Any] = {}
    for day in sorted(stops_by_day):
        day_ready = 0.0
        if hub_ready is not None and hub_ready.astimezone(tz).date() == day:
            day_ready = min(_minutes_of(hub_ready, day, tz), DAY_END)
        days[day.isoformat()] = {
            "stops": stops_by_day[day],
            "vehicles": vehicles_by_day.get(day, []),
            "hub": {"id": "hub", "at": hub_at, "drop_window": [0, DAY_END],
                    "load_window": [day_ready, DAY_END]},
            "road_factor": options.road_factor,
        }
    return {"days": days, "meta": meta, "vehicles": vehicles_meta, "unserved": unserved,
            "hub": hub_at}


def _first_opening(point: DistributionPoint, monday: date, after: datetime | None,
                   tz: ZoneInfo) -> datetime | None:
    openings = sorted(
        datetime.combine(monday + timedelta(days=int(o["weekday"])), datetime.min.time(),
                         tzinfo=tz) + timedelta(minutes=_hhmm(o["opens"]))
        for o in point.opening_hours
    )
    for opening in openings:
        if after is None or opening >= after:
            return opening
    return None


def _vehicles(session: Session, week: Week, tz: ZoneInfo, days: set[date]
              ) -> tuple[dict[date, list[dict[str, Any]]], dict[str, dict[str, Any]], list[float]]:
    vans = list(session.scalars(select(Vehicle).where(
        Vehicle.organisation_id == week.organisation_id).order_by(Vehicle.name, Vehicle.id)))
    cars = list(session.execute(
        select(Volunteer, User).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.organisation_id == week.organisation_id)
        .where(Volunteer.vehicle_kind != VehicleKind.none)
        .where(Volunteer.capacity_kg > 0)
        .where(User.is_active.is_(True))
        .order_by(Volunteer.id)))
    if vans:
        hub = [vans[0].depot_lat, vans[0].depot_lon]
    elif cars:
        hub = [sum(v.lat for v, _ in cars) / len(cars), sum(v.lon for v, _ in cars) / len(cars)]
    else:
        raise InvalidInput("Aucun véhicule : ajoutez un véhicule de l'équipe ou des bénévoles "
                           "avec voiture.",
                           "No vehicle: add a team vehicle or volunteers with a car.")
    meta: dict[str, dict[str, Any]] = {}
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for van in vans:
        vid = f"van:{van.id}"
        meta[vid] = {"label": van.name, "vehicle_id": str(van.id), "owner_id": None,
                     "capacity_kg": van.capacity_kg, "refrigerated": van.refrigerated}
        for day in sorted(days):
            by_day[day].append({
                "id": vid, "capacity_kg": van.capacity_kg, "refrigerated": van.refrigerated,
                "start": [van.depot_lat, van.depot_lon], "end": [van.depot_lat, van.depot_lon],
                "shift": [_hhmm(van.shift_start), _hhmm(van.shift_end)],
                "max_duration_min": van.max_duration_min,
                "kind": "refrigerated_van" if van.refrigerated else "van"})
    for volunteer, user in cars:
        vid = f"car:{volunteer.id}"
        meta[vid] = {"label": f"Véhicule de {user.full_name.split(' ')[0]}",
                     "vehicle_id": None, "owner_id": str(volunteer.id),
                     "capacity_kg": volunteer.capacity_kg,
                     "refrigerated": volunteer.refrigerated}
        for day in sorted(days):
            spans = [(_hhmm(a["start"]), _hhmm(a["end"])) for a in volunteer.availability
                     if int(a["weekday"]) == day.weekday()]
            if not spans:
                continue
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
            by_day[day].append({
                "id": vid, "capacity_kg": volunteer.capacity_kg,
                "refrigerated": volunteer.refrigerated,
                "start": [volunteer.lat, volunteer.lon], "end": [volunteer.lat, volunteer.lon],
                "shift": [start, end], "max_duration_min": end - start,
                "kind": "van" if volunteer.vehicle_kind is VehicleKind.van else (
                    "cargo_bike" if volunteer.vehicle_kind is VehicleKind.cargo_bike else "car")})
    return by_day, meta, hub


# ---------------------------------------------------------------------------- planning


def plannable_week(session: Session, *, actor: Actor, week_id: uuid.UUID) -> Week:
    """The actor's week whose rounds may be (re-)planned: 403, 404 or 409 at once."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    if week.status in FROZEN:
        raise Conflict("Cette semaine est publiée : ses tournées sont figées.",
                       "This week is published: its rounds are frozen.")
    return week


def ensure_nothing_driven(session: Session, week: Week) -> None:
    """409 once a stop of the week is done or reported: re-planning the whole week would
    undo what drivers already did (re-plan without a vehicle instead)."""
    started = session.scalar(
        select(RoundStop.id).join(Round, Round.id == RoundStop.round_id)
        .where(Round.week_id == week.id, Round.status != RoundStatus.cancelled,
               RoundStop.status != StopStatus.pending).limit(1))
    if started is not None:
        raise Conflict("Des étapes de cette semaine sont déjà faites ou signalées : "
                       "re-planifiez seulement sans un véhicule.",
                       "Stops of this week are already done or reported: only re-plan "
                       "without a vehicle.")


def solve_days(data: dict[str, Any], *, time_limit: float, seed: int,
               on_day: Callable[[int, str, int], None] | None = None
               ) -> dict[str, routing.RoundsResult]:
    """Solve each day of `data` (the limit shared between the days); `on_day(i, day, stops)`
    is told before each day's solve."""
    per_day = max(1.0, time_limit / max(1, len(data["days"])))
    results = {}
    for index, (day, problem) in enumerate(sorted(data["days"].items())):
        if on_day is not None:
            on_day(index, day, len(problem["stops"]))
        results[day] = routing.solve_rounds(routing.problem_from_data(problem),
                                            time_limit=per_day, seed=seed)
    return results


def plan_week_rounds(session: Session, *, actor: Actor, week_id: uuid.UUID, time_limit: float,
                     seed: int, options: PlanningOptions | None = None) -> RoundPlan:
    """Plan and store the week's rounds from its allocation, replacing any previous plan."""
    week = plannable_week(session, actor=actor, week_id=week_id)
    options = options or PlanningOptions()
    data = build_week_problem(session, week, options)
    started = time.perf_counter()
    results = solve_days(data, time_limit=time_limit, seed=seed)
    wall = time.perf_counter() - started
    return store_plan(session, actor=actor, week=week, data=data, results=results,
                      time_limit=time_limit, seed=seed, wall=wall, options=options)


def store_plan(session: Session, *, actor: Actor, week: Week, data: dict[str, Any],
           results: dict[str, routing.RoundsResult], time_limit: float, seed: int, wall: float,
           options: PlanningOptions, keep: dict[tuple[str, str], Round] | None = None) -> RoundPlan:
    """Replace the week's plan by `results` (rounds in `keep` are updated in place)."""
    tz = ZoneInfo(options.timezone)
    old = session.scalar(select(RoundPlan).where(RoundPlan.week_id == week.id))
    # A whole re-plan keeps each claim whose vehicle still drives that day (see below).
    claims: dict[tuple[str, str], tuple[uuid.UUID, datetime | None]] = {}
    if keep is None and old is not None:
        ensure_nothing_driven(session, week)
        claims = {(r.day, r.vehicle_ref): (r.driver_id, r.claimed_at) for r in session.scalars(
            select(Round).where(Round.plan_id == old.id, Round.driver_id.is_not(None),
                                Round.status == RoundStatus.claimed)) if r.driver_id}
        session.delete(old)
        session.flush()
        old = None
    kept_claims = 0
    plan = old or RoundPlan(organisation_id=week.organisation_id, week_id=week.id)
    plan.requested_by = actor.user.id
    plan.time_limit = time_limit
    plan.seed = seed
    plan.wall_seconds = round(wall, 3)
    plan.problem = data
    plan.solver_status = plan.solver_status or "running"
    plan.metrics = plan.metrics or {}
    session.add(plan)
    session.flush()
    meta = data["meta"]
    if keep is None:
        session.execute(delete(UnservedStop).where(UnservedStop.plan_id == plan.id))
        for item in data["unserved"]:
            session.add(_unserved(plan, week, item["ref"], item, item["reason"],
                                  item["message_fr"], item["message_en"]))
    else:
        refs = [s["id"] for day in results for s in data["days"][day]["stops"]]
        session.execute(delete(UnservedStop).where(UnservedStop.plan_id == plan.id,
                                                   UnservedStop.ref.in_(refs)))
    number = max((r.number for r in (keep or {}).values() if r.day not in results), default=0)
    statuses = set()
    used: set[uuid.UUID] = set()
    driving: dict[str, set[uuid.UUID]] = {}  # day -> drivers already on a round that day
    for day_iso, result in sorted(results.items()):
        day = date.fromisoformat(day_iso)
        statuses.add(result.status)
        for route in result.routes:
            number += 1
            vmeta = data["vehicles"][route.vehicle_id]
            existing = (keep or {}).get(_key(day_iso, route.vehicle_id))
            rnd = existing or Round(plan_id=plan.id, organisation_id=week.organisation_id,
                                    week_id=week.id, status=RoundStatus.open)
            claim = claims.pop(_key(day_iso, route.vehicle_id), None)
            if claim is not None and claim[0] not in driving.get(day_iso, set()):
                rnd.driver_id, rnd.claimed_at = claim
                rnd.status = RoundStatus.claimed
                driving.setdefault(day_iso, set()).add(claim[0])
                kept_claims += 1
            problem_vehicle = next(v for v in data["days"][day_iso]["vehicles"]
                                   if v["id"] == route.vehicle_id)
            rnd.number = number
            rnd.day = day_iso
            rnd.vehicle_ref = route.vehicle_id
            rnd.vehicle_id = _uuid(vmeta["vehicle_id"])
            rnd.vehicle_owner_id = _uuid(vmeta["owner_id"])
            rnd.vehicle_label = vmeta["label"]
            rnd.capacity_kg = vmeta["capacity_kg"]
            rnd.refrigerated = vmeta["refrigerated"]
            rnd.km = round(route.km, 2)
            rnd.duration_min = round(route.duration_min, 1)
            rnd.starts_at = _at(day, route.start_min, tz)
            rnd.ends_at = _at(day, route.end_min, tz)
            rnd.peak_load_kg = round(max((s.load_kg for s in route.stops), default=0.0), 2)
            rnd.start_lat, rnd.start_lon = problem_vehicle["start"]
            rnd.end_lat, rnd.end_lon = problem_vehicle["end"]
            rnd.kg_handled = rnd.kg_handled or 0.0
            session.add(rnd)
            session.flush()
            used.add(rnd.id)
            session.execute(delete(RoundStop).where(RoundStop.round_id == rnd.id))
            stops = _round_stops(rnd, route, meta, data["hub"], day, tz,
                                 data["days"][day_iso].get("hub"))
            session.add_all(stops)
            rnd.kg_handled = round(sum(s.kg_loaded for s in stops if s.kind is StopKind.pickup)
                                   + sum(s.kg_delivered for s in stops
                                         if s.kind is StopKind.delivery), 2)
        for u in result.unserved:
            session.add(_unserved(plan, week, u.stop_id, meta[u.stop_id], u.reason.value,
                                  u.message_fr, u.message_en))
    for rnd in (keep or {}).values():
        if rnd.id not in used and rnd.day in results:
            rnd.status = RoundStatus.cancelled
            rnd.driver_id = None
            session.execute(delete(RoundStop).where(RoundStop.round_id == rnd.id))
    session.flush()
    plan.metrics = _metrics(session, plan)
    if keep is None:
        plan.metrics = {**plan.metrics, "claims_kept": kept_claims,
                        "claims_dropped": len(claims)}
    plan.solver_status = "all_served" if not plan.metrics["unserved"] else "partial"
    if week.status is WeekStatus.allocated:
        week.status = WeekStatus.planned
    session.flush()
    return plan


def _metrics(session: Session, plan: RoundPlan) -> dict[str, Any]:
    rounds = list(session.scalars(select(Round).where(Round.plan_id == plan.id,
                                                      Round.status != RoundStatus.cancelled)))
    stops = list(session.scalars(select(RoundStop).where(
        RoundStop.round_id.in_([r.id for r in rounds]))))
    unserved = session.scalars(select(UnservedStop).where(UnservedStop.plan_id == plan.id)).all()
    return {
        "rounds": len(rounds),
        "km": round(sum(r.km for r in rounds), 1),
        "duration_min": round(sum(r.duration_min for r in rounds), 1),
        "stops": len(stops),
        "kg_picked_up": round(sum(s.kg_loaded for s in stops if s.kind is StopKind.pickup), 1),
        "kg_delivered": round(sum(s.kg_delivered for s in stops
                                  if s.kind is StopKind.delivery), 1),
        "unserved": len(unserved),
        "unserved_kg": round(sum(u.kg for u in unserved), 1),
    }


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _key(day: str, vehicle_ref: str) -> tuple[str, str]:
    return (day, vehicle_ref)


def _unserved(plan: RoundPlan, week: Week, ref: str, m: dict[str, Any], reason: str,
              fr: str, en: str) -> UnservedStop:
    return UnservedStop(plan_id=plan.id, organisation_id=week.organisation_id, week_id=week.id,
                        ref=ref, kind=StopKind(m["kind"]), farmer_id=_uuid(m["farmer_id"]),
                        distribution_point_id=_uuid(m["point_id"]), name=m["name"],
                        kg=round(m["kg"], 2), reason=reason, message_fr=fr[:500],
                        message_en=en[:500])


def _round_stops(rnd: Round, route: routing.Route, meta: dict[str, Any], hub: list[float],
                 day: date, tz: ZoneInfo, hub_day: dict[str, Any] | None = None
                 ) -> list[RoundStop]:
    stops: list[RoundStop] = []
    for visit in route.stops:
        is_hub = visit.kind in (routing.VisitKind.HUB_DROP, routing.VisitKind.HUB_LOAD)
        stop_id = visit.for_stop if is_hub and visit.for_stop else visit.stop_id
        m = meta[stop_id]
        loaded = m["kg"] if visit.kind in (routing.VisitKind.PICKUP,
                                           routing.VisitKind.HUB_LOAD) else 0.0
        delivered = m["kg"] if visit.kind in (routing.VisitKind.DELIVERY,
                                              routing.VisitKind.HUB_DROP) else 0.0
        ref = [visit.kind.value, visit.stop_id, visit.for_stop]
        last = stops[-1] if stops else None
        same_place = last is not None and (
            (is_hub and last.kind is StopKind.hub)
            or (not is_hub and last.kind is StopKind(m["kind"])
                and last.farmer_id == _uuid(m["farmer_id"])
                and last.distribution_point_id == _uuid(m["point_id"])))
        if last is not None and same_place:
            # Consecutive visits of one place (the hub, or a place's cold and ambient loads)
            # are one stop for the driver.
            last.kg_loaded = round(last.kg_loaded + loaded, 2)
            last.kg_delivered = round(last.kg_delivered + delivered, 2)
            last.load_after_kg = round(visit.load_kg, 2)
            last.items = _merge(last.items, m["items"])
            last.refs = [*last.refs, ref]
            last.refrigerated = last.refrigerated or m["cold"]
            continue
        if is_hub:
            hub_windows = hub_day or {}
            window = hub_windows.get("drop_window" if visit.kind is routing.VisitKind.HUB_DROP
                                     else "load_window",
                                     [visit.arrival_min, visit.departure_min])
        else:
            window = m["window"]
        stops.append(RoundStop(
            round_id=rnd.id, position=len(stops) + 1,
            kind=StopKind.hub if is_hub else StopKind(m["kind"]),
            farmer_id=None if is_hub else _uuid(m["farmer_id"]),
            distribution_point_id=None if is_hub else _uuid(m["point_id"]),
            name="Dépôt de l'équipe" if is_hub else m["name"],
            address="" if is_hub else m["address"],
            lat=hub[0] if is_hub else m["lat"], lon=hub[1] if is_hub else m["lon"],
            arrival_at=_at(day, visit.arrival_min, tz),
            window_start=_at(day, window[0], tz), window_end=_at(day, window[1], tz),
            kg_loaded=round(loaded, 2), kg_delivered=round(delivered, 2),
            load_after_kg=round(visit.load_kg, 2), refrigerated=bool(m["cold"]),
            items=list(m["items"]), refs=[ref], status=StopStatus.pending))
    return stops


def _merge(a: list[Any], b: list[Any]) -> list[Any]:
    total: dict[str, float] = defaultdict(float)
    for item in [*a, *b]:
        total[item["product"]] += float(item["kg"])
    return [{"product": k, "kg": round(v, 2)} for k, v in sorted(total.items())]


def _previous_result(session: Session, plan: RoundPlan, day: str) -> routing.RoundsResult:
    routes = []
    for rnd in session.scalars(select(Round).where(Round.plan_id == plan.id, Round.day == day,
                                                   Round.status != RoundStatus.cancelled)
                               .order_by(Round.number)):
        visits = []
        for stop in session.scalars(select(RoundStop).where(RoundStop.round_id == rnd.id)
                                    .order_by(RoundStop.position)):
            for kind, stop_id, for_stop in stop.refs:
                visits.append(routing.PlannedStop(stop_id, routing.VisitKind(kind), 0, 0, 0, 0,
                                                  for_stop))
        routes.append(routing.Route(rnd.vehicle_ref, tuple(visits), 0, 0, rnd.km,
                                    rnd.duration_min))
    return routing.RoundsResult(tuple(routes), (), 0.0, 0.0, 0.0, "previous")


def replannable(session: Session, *, actor: Actor, week_id: uuid.UUID,
                vehicle_ref: str) -> tuple[Week, RoundPlan]:
    """The week and its plan, when `vehicle_ref` can be taken out of it (else 4xx at once)."""
    week = plannable_week(session, actor=actor, week_id=week_id)
    plan = session.scalar(select(RoundPlan).where(RoundPlan.week_id == week.id))
    if plan is None:
        raise NotFound("Plan de tournées", "Round plan")
    if vehicle_ref not in plan.problem["vehicles"]:
        raise InvalidInput("Ce véhicule ne fait pas partie du plan.",
                           "This vehicle is not part of the plan.",
                           [{"field": "vehicle", "message": "Véhicule inconnu."}])
    return week, plan


def replan_without_vehicle(session: Session, *, actor: Actor, week_id: uuid.UUID,
                           vehicle_ref: str, time_limit: float, seed: int,
                           options: PlanningOptions | None = None) -> RoundPlan:
    """Re-plan after a vehicle drops out; the other rounds keep their stops and order."""
    week, plan = replannable(session, actor=actor, week_id=week_id, vehicle_ref=vehicle_ref)
    options = options or PlanningOptions()
    data = dict(plan.problem)
    started = time.perf_counter()
    results: dict[str, routing.RoundsResult] = {}
    days = {}
    touched = sum(1 for d in data["days"].values()
                  if any(v["id"] == vehicle_ref for v in d["vehicles"]))
    per_day = max(1.0, time_limit / max(1, touched))
    for day, problem_data in data["days"].items():
        if not any(v["id"] == vehicle_ref for v in problem_data["vehicles"]):
            days[day] = problem_data
            continue
        problem = routing.problem_from_data(problem_data)
        previous = _previous_result(session, plan, day)
        results[day] = routing.replan_without_vehicle(problem, previous, vehicle_ref,
                                                      time_limit=per_day, seed=seed)
        days[day] = {**problem_data, "vehicles": [
            v for v in problem_data["vehicles"] if v["id"] != vehicle_ref]}
    data = {**data, "days": days}
    keep = {_key(r.day, r.vehicle_ref): r for r in session.scalars(
        select(Round).where(Round.plan_id == plan.id, Round.status != RoundStatus.cancelled))}
    return store_plan(session, actor=actor, week=week, data=data, results=results,
                  time_limit=time_limit, seed=seed, wall=time.perf_counter() - started,
                  options=options, keep=keep)


# ---------------------------------------------------------------------------- reading


def get_plan(session: Session, *, actor: Actor, week_id: uuid.UUID) -> dict[str, Any]:
    """The week's plan: figures, rounds in order, and the unserved with their reasons."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    plan = session.scalar(select(RoundPlan).where(RoundPlan.week_id == week.id))
    if plan is None:
        raise NotFound("Plan de tournées", "Round plan")
    rounds = list(session.scalars(select(Round).where(Round.plan_id == plan.id)
                                  .order_by(Round.number, Round.created_at)))
    unserved = list(session.scalars(select(UnservedStop).where(UnservedStop.plan_id == plan.id)
                                    .order_by(UnservedStop.ref)))
    return {"id": plan.id, "week_id": week.id, "solver_status": plan.solver_status,
            "wall_seconds": plan.wall_seconds, "time_limit": plan.time_limit, "seed": plan.seed,
            "metrics": plan.metrics, "hub": plan.problem.get("hub"),
            "rounds": [round_out(session, r, stops=True) for r in rounds],
            "unserved": unserved}


def round_out(session: Session, rnd: Round, *, stops: bool = False,
              origin: tuple[float, float] | None = None) -> dict[str, Any]:
    """A round as the API shows it (optionally with its stops, and distance to `origin`)."""
    data = {column: getattr(rnd, column) for column in Round.__table__.columns.keys()}
    data["driver_name"] = None
    if rnd.driver_id is not None:
        driver = session.get(Volunteer, rnd.driver_id)
        user = session.get(User, driver.user_id) if driver else None
        data["driver_name"] = user.full_name if user else None
    data["stop_count"] = len(_stops(session, rnd))
    if stops:
        data["stops"] = _stops(session, rnd)
    if origin is not None:
        data["distance_km"] = round(distance_km(origin[0], origin[1], rnd.start_lat,
                                                rnd.start_lon), 1)
    return data


def _stops(session: Session, rnd: Round) -> list[RoundStop]:
    return list(session.scalars(select(RoundStop).where(RoundStop.round_id == rnd.id)
                                .order_by(RoundStop.position)))


def _my_volunteer(session: Session, actor: Actor) -> Volunteer:
    actor.require(Role.volunteer)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == actor.user.id))
    if volunteer is None:
        raise NotFound("Profil bénévole", "Volunteer profile")
    return volunteer


def get_round(session: Session, *, actor: Actor, round_id: uuid.UUID) -> Round:
    """A round of the actor's programme: coordinators see their team's, volunteers their
    programme's (open ones, or the ones they drive)."""
    if actor.role is Role.volunteer:
        volunteer = _my_volunteer(session, actor)
        rnd = session.scalar(select(Round).where(Round.id == round_id,
                                                 Round.organisation_id ==
                                                 volunteer.organisation_id))
        if rnd is None or (rnd.driver_id not in (None, volunteer.id)):
            raise NotFound(*ROUND)
        return rnd
    actor.require(Role.coordinator)
    return get_owned(session, Round, round_id, actor, ROUND)


def open_rounds(session: Session, *, actor: Actor) -> tuple[Select[Round], Volunteer]:
    """Open rounds of the volunteer's programme, from today on, that they could drive."""
    volunteer = _my_volunteer(session, actor)
    query = (select(Round)
             .join(Week, Week.id == Round.week_id)
             .where(Round.organisation_id == volunteer.organisation_id)
             .where(Round.status == RoundStatus.open, Round.driver_id.is_(None))
             .where(Week.status != WeekStatus.done)
             .where((Round.vehicle_owner_id.is_(None))
                    | (Round.vehicle_owner_id == volunteer.id))
             .order_by(Round.starts_at, Round.number))
    return query, volunteer


def my_rounds(session: Session, *, actor: Actor) -> list[Round]:
    """The rounds the volunteer drives, soonest first."""
    volunteer = _my_volunteer(session, actor)
    return list(session.scalars(select(Round).where(Round.driver_id == volunteer.id)
                                .where(Round.status != RoundStatus.cancelled)
                                .order_by(Round.starts_at)))


def claim_round(session: Session, *, actor: Actor, round_id: uuid.UUID, confirm: bool = False,
                timezone: str = "Europe/Paris", now: datetime | None = None) -> Round:
    """Take an open round that has not started and does not overlap a round the volunteer
    already drives; outside their availability only once they confirm (`confirm`). Atomic:
    of concurrent claims exactly one wins, the others get 409."""
    volunteer = _my_volunteer(session, actor)
    rnd = session.scalar(select(Round).where(
        Round.id == round_id, Round.organisation_id == volunteer.organisation_id,
        Round.status != RoundStatus.cancelled))
    if rnd is None or (rnd.vehicle_owner_id is not None
                       and rnd.vehicle_owner_id != volunteer.id):
        raise NotFound(*ROUND)
    tz = ZoneInfo(timezone)
    start, end = rnd.starts_at.astimezone(tz), rnd.ends_at.astimezone(tz)
    if rnd.starts_at <= (now or utcnow()):
        raise Conflict(f"Cette tournée a commencé le {day_fr(start)} à {start:%H:%M} : "
                       "elle ne peut plus être prise.",
                       f"This round started on {day_en(start)} at {start:%H:%M}: it can no "
                       "longer be taken.")
    if rnd.driver_id == volunteer.id:
        raise Conflict("Vous conduisez déjà cette tournée.", "You already drive this round.")
    if rnd.driver_id is not None or rnd.status is not RoundStatus.open:
        raise Conflict("Cette tournée vient d'être prise par quelqu'un d'autre.",
                       "Someone else has just taken this round.")
    overlapping = session.scalar(
        select(Round).where(Round.driver_id == volunteer.id, Round.id != rnd.id,
                            Round.status != RoundStatus.cancelled,
                            Round.starts_at < rnd.ends_at, Round.ends_at > rnd.starts_at)
        .order_by(Round.starts_at).limit(1))
    if overlapping is not None:
        o_start, o_end = overlapping.starts_at.astimezone(tz), overlapping.ends_at.astimezone(tz)
        raise Conflict(f"Vous conduisez déjà la tournée n° {overlapping.number} le "
                       f"{day_fr(o_start)} de {o_start:%H:%M} à {o_end:%H:%M} : elle "
                       "chevauche celle-ci.",
                       f"You already drive round {overlapping.number} on {day_en(o_start)} "
                       f"from {o_start:%H:%M} to {o_end:%H:%M}: it overlaps this one.")
    if not confirm and not within_availability(volunteer.availability, start, end):
        slots = day_slots(volunteer.availability, start.weekday())
        said_fr = ", ".join(f"{a}–{b}" for a, b in slots) or "aucune disponibilité"
        said_en = ", ".join(f"{a}–{b}" for a, b in slots) or "no availability"
        raise ConfirmationRequired(
            f"Cette tournée ({day_fr(start)} {start:%H:%M}–{end:%H:%M}) sort de vos "
            f"disponibilités (le {day_fr(start)} : {said_fr}). Confirmez pour la prendre "
            "quand même.",
            f"This round ({day_en(start)} {start:%H:%M}–{end:%H:%M}) is outside your "
            f"availability ({day_en(start)}: {said_en}). Confirm to take it anyway.",
            {"reason": "outside_availability"})
    # One conditional UPDATE: the database, not this process, decides who wins (the check
    # above only spares a needless question).
    result = session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.driver_id.is_(None),
               Round.status == RoundStatus.open)
        .values(driver_id=volunteer.id, status=RoundStatus.claimed, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("Cette tournée vient d'être prise par quelqu'un d'autre.",
                       "Someone else has just taken this round.")
    session.refresh(rnd)
    return rnd


def drop_round(session: Session, *, actor: Actor, round_id: uuid.UUID,
               confirm: bool = False) -> Round:
    """Give a claimed round back: it is open again for others. Once a stop is done or a
    problem reported, only after the driver confirms (those marks stay)."""
    volunteer = _my_volunteer(session, actor)
    rnd = get_round(session, actor=actor, round_id=round_id)
    if rnd.driver_id != volunteer.id or rnd.status is not RoundStatus.claimed:
        raise Conflict("Vous ne conduisez pas cette tournée.", "You are not driving this round.")
    marked = [s for s in _stops(session, rnd) if s.status is not StopStatus.pending]
    if marked and not confirm:
        done = sum(1 for s in marked if s.status is StopStatus.done)
        problems = len(marked) - done
        raise ConfirmationRequired(
            f"Vous avez déjà fait {done} étape(s) et signalé {problems} problème(s) sur cette "
            "tournée. Confirmez pour la rendre quand même : ces étapes restent enregistrées.",
            f"You have already done {done} stop(s) and reported {problems} problem(s) on this "
            "round. Confirm to give it back anyway: those stops stay recorded.",
            {"reason": "stops_marked", "done": done, "problems": problems})
    rnd.driver_id = None
    rnd.claimed_at = None
    rnd.status = RoundStatus.open
    session.flush()
    return rnd


def mark_stop(session: Session, *, actor: Actor, round_id: uuid.UUID, stop_id: uuid.UUID,
              done: bool, note: str | None) -> RoundStop:
    """The driver (or a coordinator) marks a stop done, or reports a problem with a note."""
    rnd = get_round(session, actor=actor, round_id=round_id)
    if actor.role is Role.volunteer and rnd.driver_id != _my_volunteer(session, actor).id:
        raise Conflict("Prenez d'abord cette tournée.", "Claim this round first.")
    if rnd.status is RoundStatus.cancelled:
        raise Conflict("Cette tournée est annulée.", "This round is cancelled.")
    stop = session.scalar(select(RoundStop).where(RoundStop.id == stop_id,
                                                  RoundStop.round_id == rnd.id))
    if stop is None:
        raise NotFound(*STOP)
    stop.status = StopStatus.done if done else StopStatus.problem
    stop.done_at = utcnow()
    stop.note = note
    session.flush()
    if all(s.status is not StopStatus.pending for s in _stops(session, rnd)):
        rnd.status = RoundStatus.done
        session.flush()
    return stop


def sheet(session: Session, *, actor: Actor, round_id: uuid.UUID) -> dict[str, Any]:
    """Everything a driver needs: vehicle, times, ordered stops with addresses, windows, what
    to load and hand over, and a navigation link per stop."""
    rnd = get_round(session, actor=actor, round_id=round_id)
    week = session.get(Week, rnd.week_id)
    assert week is not None
    data = round_out(session, rnd)
    data["week_starts_on"] = week.starts_on
    data["stops"] = [
        {**{c: getattr(s, c) for c in RoundStop.__table__.columns.keys()},
         "geo_uri": f"geo:{s.lat:.6f},{s.lon:.6f}?q={s.lat:.6f},{s.lon:.6f}"}
        for s in _stops(session, rnd)
    ]
    data["kg_to_load"] = round(sum(s["kg_loaded"] for s in data["stops"]), 2)
    return data


def rounds_query(actor: Actor, week_id: uuid.UUID | None = None) -> Select[Round]:
    """The team's rounds (optionally one week's), in order."""
    actor.require(Role.coordinator)
    query = owned(Round, actor).where(Round.status != RoundStatus.cancelled)
    if week_id is not None:
        query = query.where(Round.week_id == week_id)
    return query.order_by(Round.day, Round.number)


# ---------------------------------------------------------------------------- drivers


def _driver_problem(session: Session, week: Week, rounds: list[Round],
                    pins: tuple[tuple[str, str], ...] = (),
                    exclusions: tuple[tuple[str, str], ...] = (),
                    options: PlanningOptions | None = None) -> matching.DriverProblem:
    tz = ZoneInfo((options or PlanningOptions()).timezone)
    volunteers = list(session.scalars(
        select(Volunteer).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.organisation_id == week.organisation_id)
        .where(User.is_active.is_(True)).order_by(Volunteer.id)))
    month_start = datetime.combine(week.starts_on.replace(day=1), datetime.min.time(), tzinfo=tz)
    driven: dict[uuid.UUID, list[Round]] = defaultdict(list)
    for other in session.scalars(select(Round).where(
            Round.organisation_id == week.organisation_id, Round.week_id != week.id,
            Round.driver_id.is_not(None), Round.starts_at >= month_start,
            Round.status != RoundStatus.cancelled)):
        assert other.driver_id is not None
        driven[other.driver_id].append(other)
    m_rounds = []
    ids = {str(r.id) for r in rounds}
    extra_exclusions = []
    for r in rounds:
        # On a team van the van carries the load; on a volunteer's car only its owner drives.
        on_van = r.vehicle_owner_id is None
        m_rounds.append(matching.Round(
            id=str(r.id), start=r.starts_at, end=r.ends_at,
            peak_load_kg=0.0 if on_van else r.peak_load_kg, lat=r.start_lat, lon=r.start_lon,
            refrigerated=False if on_van else r.refrigerated))
        if not on_van:
            extra_exclusions += [(str(r.id), str(v.id)) for v in volunteers
                                 if v.id != r.vehicle_owner_id]
    m_vols = []
    for v in volunteers:
        windows = []
        for day_offset in range(7):
            day = week.starts_on + timedelta(days=day_offset)
            for a in v.availability:
                if int(a["weekday"]) == day.weekday():
                    windows.append((_at(day, _hhmm(a["start"]), tz),
                                    _at(day, _hhmm(a["end"]), tz)))
        # A round the volunteer already drives is within their availability by their own word.
        windows += [(r.starts_at, r.ends_at) for r in rounds if r.driver_id == v.id]
        mine = driven.get(v.id, [])
        m_vols.append(matching.Volunteer(
            id=str(v.id), availability=tuple(windows), capacity_kg=v.capacity_kg,
            lat=v.lat, lon=v.lon, refrigerated=v.refrigerated,
            max_rounds_per_month=v.max_rounds_per_month,
            max_hours_per_month=v.hours_per_month or None,
            rounds_this_month=len(mine),
            hours_this_month=sum((o.ends_at - o.starts_at).total_seconds() / 3600 for o in mine),
            recent_rounds=len(mine)))
    vol_ids = {v.id for v in m_vols}
    pins = tuple(p for p in pins if p[0] in ids and p[1] in vol_ids)
    pinned = set(pins)
    exclusions = tuple({*exclusions, *(e for e in extra_exclusions if e not in pinned)})
    return matching.DriverProblem(tuple(m_rounds), tuple(m_vols), pins,
                                  tuple(e for e in exclusions if e[0] in ids and e[1] in vol_ids))


def staffable_rounds(session: Session, *, actor: Actor, week_id: uuid.UUID,
                     round_ids: list[uuid.UUID]) -> tuple[Week, list[Round]]:
    """The week's rounds still to drive, when there are some and `round_ids` are among them
    (else 4xx at once)."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    rounds = list(session.scalars(select(Round).where(
        Round.week_id == week.id, Round.status.in_([RoundStatus.open, RoundStatus.claimed]))
        .order_by(Round.number)))
    if not rounds:
        raise InvalidInput("Aucune tournée à pourvoir : planifiez d'abord les tournées.",
                           "No round to staff: plan the rounds first.")
    known = {r.id for r in rounds}
    if any(round_id not in known for round_id in round_ids):
        raise NotFound(*ROUND)
    return week, rounds


def assign_week_drivers(session: Session, *, actor: Actor, week_id: uuid.UUID,
                        pins: list[tuple[uuid.UUID, uuid.UUID]], excludes:
                        list[tuple[uuid.UUID, uuid.UUID]], time_limit: float, seed: int,
                        options: PlanningOptions | None = None) -> dict[str, Any]:
    """Assign volunteers to the week's rounds without driver (claimed rounds stay as they are),
    with the coordinator's pins and exclusions; every match and every miss says why."""
    week, rounds = staffable_rounds(session, actor=actor, week_id=week_id,
                                    round_ids=[r for r, _v in [*pins, *excludes]])
    fixed = [(str(r.id), str(r.driver_id)) for r in rounds if r.driver_id is not None]
    problem = _driver_problem(session, week, rounds,
                              pins=(*fixed, *((str(a), str(b)) for a, b in pins)),
                              exclusions=tuple((str(a), str(b)) for a, b in excludes),
                              options=options)
    try:
        try:
            result = matching.assign_drivers(problem, time_limit=time_limit, seed=seed)
        except (ValueError, RuntimeError):
            if not fixed:
                raise
            # A claim beyond its driver's monthly cap: staff the other rounds around it.
            free = [r for r in rounds if r.driver_id is None]
            problem = _driver_problem(session, week, free,
                                      pins=tuple((str(a), str(b)) for a, b in pins),
                                      exclusions=tuple((str(a), str(b)) for a, b in excludes),
                                      options=options)
            result = matching.assign_drivers(problem, time_limit=time_limit, seed=seed)
    except (ValueError, RuntimeError) as exc:
        raise InvalidInput("Épingles impossibles à respecter : " + str(exc),
                           "Pins that cannot be kept: " + str(exc)) from exc
    by_id = {str(r.id): r for r in rounds}
    for a in result.assignments:
        rnd = by_id[a.round_id]
        if rnd.driver_id is None:
            rnd.driver_id = uuid.UUID(a.volunteer_id)
            rnd.status = RoundStatus.claimed
            rnd.claimed_at = utcnow()
    session.flush()
    return {
        "status": result.status, "metrics": dict(result.metrics),
        "assignments": [{"round_id": a.round_id, "volunteer_id": a.volunteer_id,
                         "detour_km": a.detour_km, "pinned": a.pinned,
                         "reasons": [{"code": r.code, "fr": r.fr, "en": r.en}
                                     for r in a.reasons]} for a in result.assignments],
        "unassigned": [{"round_id": u.round_id,
                        "reasons": [{"code": r.code, "fr": r.fr, "en": r.en}
                                    for r in u.reasons]} for u in result.unassigned],
    }


def replacements(session: Session, *, actor: Actor, round_id: uuid.UUID,
                 limit: int = 5) -> list[dict[str, Any]]:
    """Who could take this round instead of its driver (or anyone, if it has none), nearest
    first, with the reasons."""
    actor.require(Role.coordinator)
    rnd = get_owned(session, Round, round_id, actor, ROUND)
    week = session.get(Week, rnd.week_id)
    assert week is not None
    rounds = list(session.scalars(select(Round).where(
        Round.week_id == week.id, Round.status.in_([RoundStatus.open, RoundStatus.claimed]))))
    if rnd not in rounds:
        rounds.append(rnd)
    problem = _driver_problem(session, week, rounds)
    current = {str(r.id): str(r.driver_id) for r in rounds
               if r.driver_id is not None and r.id != rnd.id}
    dropped = str(rnd.driver_id) if rnd.driver_id else None
    if dropped not in {v.id for v in problem.volunteers}:
        # Nobody dropped: rank everyone by pretending a volunteer outside the list left.
        ghost = matching.Volunteer("__none__", (), 0.0, rnd.start_lat, rnd.start_lon)
        problem = matching.DriverProblem(problem.rounds, (*problem.volunteers, ghost),
                                         (), problem.exclusions, problem.max_detour_km)
        dropped = ghost.id
    found = matching.propose_replacements(problem, str(rnd.id), dropped, limit=limit,
                                          current=current)
    names = {str(v.id): u.full_name for v, u in session.execute(
        select(Volunteer, User).join(User, User.id == Volunteer.user_id).where(
            Volunteer.id.in_([uuid.UUID(f.volunteer_id) for f in found])))}
    return [{"volunteer_id": f.volunteer_id, "full_name": names.get(f.volunteer_id),
             "detour_km": f.detour_km,
             "reasons": [{"code": r.code, "fr": r.fr, "en": r.en} for r in f.reasons]}
            for f in found]


# ---------------------------------------------------------------------------- export

_KINDS_FR = {StopKind.pickup: "Enlèvement", StopKind.delivery: "Livraison",
             StopKind.hub: "Plateforme"}


def rounds_table(session: Session, *, actor: Actor, week_id: uuid.UUID,
                 tz: ZoneInfo) -> Any:
    """The week's rounds as a table, one row per stop, French headers (for CSV and XLSX)."""
    import pandas as pd

    from baskets.io.export import Table

    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    rows = []
    for rnd in session.scalars(rounds_query(actor, week.id)):
        driver = round_out(session, rnd)["driver_name"] or ""
        for stop in _stops(session, rnd):
            rows.append({
                "Tournée": rnd.number, "Jour": date.fromisoformat(rnd.day).strftime("%d/%m/%Y"),
                "Véhicule": rnd.vehicle_label, "Chauffeur": driver, "Km": rnd.km,
                "Durée (min)": rnd.duration_min, "Étape": stop.position,
                "Type": _KINDS_FR[stop.kind], "Lieu": stop.name, "Adresse": stop.address,
                "Arrivée": stop.arrival_at.astimezone(tz).strftime("%H:%M"),
                "Fenêtre": f"{stop.window_start.astimezone(tz):%H:%M}-"
                           f"{stop.window_end.astimezone(tz):%H:%M}",
                "Kg chargés": stop.kg_loaded, "Kg livrés": stop.kg_delivered,
                "Charge après (kg)": stop.load_after_kg,
                "Produits": ", ".join(f"{i['product']} {i['kg']} kg" for i in stop.items),
                "État": stop.status.value, "Note": stop.note or "",
            })
    columns = ["Tournée", "Jour", "Véhicule", "Chauffeur", "Km", "Durée (min)", "Étape", "Type",
               "Lieu", "Adresse", "Arrivée", "Fenêtre", "Kg chargés", "Kg livrés",
               "Charge après (kg)", "Produits", "État", "Note"]
    return Table(f"tournees-{week.starts_on.isoformat()}", pd.DataFrame(rows, columns=columns))
