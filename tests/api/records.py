"""Records owned by 'mine' and 'theirs' organisations, for the per-route tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.engagements.models import (
    Decision,
    Engagement,
    EngagementStatus,
    HoursLog,
    MatchingRun,
)
from baskets.households.models import Household, ReferralReason
from baskets.jobs.models import Job
from baskets.rounds.models import Round, RoundPlan, RoundStatus, RoundStop, StopKind
from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.supply.models import Farmer, SupplyLot
from baskets.volunteers.models import Vehicle, VehicleKind, Volunteer
from baskets.weeks.models import Week, WeekStatus
from tests.world import World

MONDAY = date.today() - timedelta(days=date.today().weekday())


def _farmer(org: uuid.UUID) -> Farmer:
    return Farmer(organisation_id=org, name="Ferme des Paluds", siret="12345678900017",
                  address="Chemin des Paluds, Châteaurenard", lat=43.88, lon=4.85)


def _household(org: uuid.UUID, nbh: uuid.UUID, point: uuid.UUID, ref: str) -> Household:
    return Household(organisation_id=org, reference=ref, contact_name="Nadia B.",
                     phone="06 39 98 00 01", adults=2, children=1, neighbourhood_id=nbh,
                     distribution_point_id=point, referral_reason=ReferralReason.job_loss,
                     valid_until=MONDAY + timedelta(days=90),
                     consent_date=MONDAY - timedelta(days=10),
                     last_contact_date=MONDAY - timedelta(days=3))


def _vehicle(org: uuid.UUID) -> Vehicle:
    return Vehicle(organisation_id=org, name="Camion 1", capacity_kg=800, depot_lat=43.34,
                   depot_lon=5.38, shift_start="07:00", shift_end="13:00", max_duration_min=300)


def _offer(org: uuid.UUID) -> Offer:
    return Offer(organisation_id=org, title="Comptabilité associative", skills={"accounting": 4},
                 hours=40, starts_on=MONDAY, ends_on=MONDAY + timedelta(days=60), lat=43.3,
                 lon=5.4, max_km=20, min_chunk_hours=2)


def _project(org: uuid.UUID, nbh: uuid.UUID) -> Project:
    return Project(organisation_id=org, neighbourhood_id=nbh, title="Jardin partagé",
                   starts_on=MONDAY, ends_on=MONDAY + timedelta(days=90), lat=43.33, lon=5.42,
                   needs=[ProjectNeed(position=0, skill="gardening", min_level=2, hours=30)])


def make_records(session: Session, world: World) -> dict[str, uuid.UUID]:
    """One record per kind for the tester's organisation and one for another organisation."""
    w = world.ids
    records: dict[str, object] = {
        "farmer_mine": _farmer(w["team1"]),
        "farmer_theirs": _farmer(w["team2"]),
        "week_mine": Week(organisation_id=w["team1"], starts_on=MONDAY),
        "week_theirs": Week(organisation_id=w["team2"], starts_on=MONDAY),
        "household_mine": _household(w["assoc1"], w["n1"], w["point1"], "H-MINE"),
        # Same territory, other association: must be as invisible as another territory's.
        "household_theirs": _household(w["assoc1b"], w["n1"], w["point1b"], "H-THEIRS"),
        "vehicle_mine": _vehicle(w["team1"]),
        "vehicle_theirs": _vehicle(w["team2"]),
        "offer_mine": _offer(w["company1"]),
        "offer_theirs": _offer(w["company2"]),
        "project_mine": _project(w["assoc1"], w["n1"]),
        "project_theirs": _project(w["assoc2"], w["n2"]),
        "volunteer_mine": Volunteer(user_id=w["user_volunteer1"], organisation_id=w["team1"],
                                    home_area="Marseille 13e", lat=43.35, lon=5.43,
                                    vehicle_kind=VehicleKind.car, capacity_kg=150,
                                    availability=[{"weekday": d, "start": "06:00",
                                                   "end": "18:00"} for d in range(7)]),
        "volunteer_theirs": Volunteer(user_id=w["user_volunteer2"], organisation_id=w["team2"],
                                      home_area="Mulhouse", lat=47.75, lon=7.34,
                                      vehicle_kind=VehicleKind.car, capacity_kg=150),
    }
    for record in records.values():
        session.add(record)
    session.flush()
    ids = {name: record.id for name, record in records.items()}  # type: ignore[attr-defined]
    start = datetime.combine(MONDAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
    for side, team in (("mine", "team1"), ("theirs", "team2")):
        lot = SupplyLot(organisation_id=w[team], week_id=ids[f"week_{side}"],
                        farmer_id=ids[f"farmer_{side}"], product_id=w["leek"], quantity_kg=120,
                        harvest_date=MONDAY, pickup_start=start,
                        pickup_end=start + timedelta(hours=3), price_per_kg=1.8)
        session.add(lot)
        session.flush()
        ids[f"lot_{side}"] = lot.id
    ids["point_mine"], ids["point_theirs"] = w["point1"], w["point1b"]
    ids.update(_allocations(session, world, ids))
    ids["organisation_mine"], ids["organisation_theirs"] = w["assoc1"], w["assoc2"]
    for side, team, user in (("mine", "team1", "user_coord1"), ("theirs", "team2", "user_coord2")):
        # A queued job nobody runs (never enqueued): it can be read, followed and cancelled.
        job = Job(kind="allocation", params={"week_id": str(ids[f"week_{side}"])},
                  organisation_id=w[team], requested_by=w[user])
        session.add(job)
        session.flush()
        ids[f"job_{side}"] = job.id
    ids.update(make_rounds(session, world, ids))
    ids.update(_engagements(session, world, ids))
    session.commit()
    return ids


def _allocations(session: Session, world: World, ids: dict[str, uuid.UUID]
                 ) -> dict[str, uuid.UUID]:
    """A stored allocation per week (no solve): one basket per household of the week's side."""
    w = world.ids
    made: dict[str, uuid.UUID] = {}
    for side, team in (("mine", "team1"), ("theirs", "team2")):
        allocation = Allocation(organisation_id=w[team], week_id=ids[f"week_{side}"],
                                solver_status="optimal", time_limit=1, seed=1, wall_seconds=0.1,
                                metrics={"min_coverage": 0.5}, binding=[], unallocated=[])
        session.add(allocation)
        week = session.get(Week, ids[f"week_{side}"])
        assert week is not None
        week.status = WeekStatus.allocated
        session.flush()
        made[f"allocation_{side}"] = allocation.id
    for side, household, assoc, point in (("mine", "household_mine", "assoc1", "point1"),
                                          ("theirs", "household_theirs", "assoc1b", "point1b")):
        basket = AllocatedBasket(
            allocation_id=made["allocation_mine"], week_id=ids["week_mine"],
            household_id=ids[household], organisation_id=w[assoc],
            distribution_point_id=w[point], neighbourhood_id=w["n1"], consumption_units=1.8,
            kg=6.0, need_kg=7.2, coverage=0.8333,
            items=[{"lot_id": str(ids["lot_mine"]), "product_id": str(w["leek"]), "kg": 6.0,
                    "pieces": None}],
        )
        session.add(basket)
        session.flush()
        made[f"basket_{side}"] = basket.id
    return made


def make_rounds(session: Session, world: World, ids: dict[str, uuid.UUID]
                ) -> dict[str, uuid.UUID]:
    """A stored round plan per week (no solve): an open round, and a round driven by the
    side's volunteer with one stop."""
    w = world.ids
    made: dict[str, uuid.UUID] = {}
    # Tomorrow morning (whatever the hour the tests run): inside the volunteer's availability.
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    first = datetime.combine(tomorrow, time(7, 0), tzinfo=UTC)
    for side, team in (("mine", "team1"), ("theirs", "team2")):
        van = f"van:{ids[f'vehicle_{side}']}"
        plan = RoundPlan(organisation_id=w[team], week_id=ids[f"week_{side}"],
                         solver_status="all_served", time_limit=1, seed=1, wall_seconds=0.1,
                         metrics={"rounds": 2}, problem={
                             "days": {}, "meta": {}, "unserved": [], "hub": [43.34, 5.38],
                             "vehicles": {van: {"label": "Camion 1", "capacity_kg": 800,
                                                "refrigerated": False, "owner_id": None,
                                                "vehicle_id": str(ids[f"vehicle_{side}"])}}})
        session.add(plan)
        session.flush()
        for number, kind in ((1, "round"), (2, "driven")):
            # The open round comes after the driven one: claiming it overlaps nothing.
            start = first + timedelta(hours=3) if kind == "round" else first
            rnd = Round(plan_id=plan.id, organisation_id=w[team], week_id=ids[f"week_{side}"],
                        number=number, day=start.date().isoformat(), vehicle_ref=van,
                        vehicle_id=ids[f"vehicle_{side}"], vehicle_label="Camion 1",
                        capacity_kg=800, refrigerated=False,
                        driver_id=ids[f"volunteer_{side}"] if kind == "driven" else None,
                        status=RoundStatus.claimed if kind == "driven" else RoundStatus.open,
                        km=12.0, duration_min=90, starts_at=start,
                        ends_at=start + timedelta(hours=2), peak_load_kg=60, kg_handled=60,
                        start_lat=43.34, start_lon=5.38, end_lat=43.34, end_lon=5.38)
            session.add(rnd)
            session.flush()
            made[f"{kind}_{side}"] = rnd.id
            stop = RoundStop(round_id=rnd.id, position=1, kind=StopKind.delivery,
                             distribution_point_id=w["point1"], name="Centre social 1",
                             address="1 rue A", lat=43.33, lon=5.42,
                             arrival_at=start + timedelta(minutes=30),
                             window_start=start, window_end=start + timedelta(hours=1),
                             kg_loaded=0, kg_delivered=60, load_after_kg=0, refrigerated=False,
                             items=[{"product": "Poireaux", "kg": 60}],
                             refs=[["delivery", "D000", None]])
            session.add(stop)
            session.flush()
            made[f"{'stop' if kind == 'driven' else 'openstop'}_{side}"] = stop.id
    return made


def _engagements(session: Session, world: World, ids: dict[str, uuid.UUID]
                 ) -> dict[str, uuid.UUID]:
    """Per side: a stored matching run, a proposed and an accepted engagement, one hours entry."""
    w = world.ids
    made: dict[str, uuid.UUID] = {}
    for side, team, company, assoc, logger in (
            ("mine", "team1", "company1", "assoc1", "user_company1"),
            ("theirs", "team2", "company2", "assoc2", "user_company2")):
        run = MatchingRun(organisation_id=w[team], solver_status="feasible", time_limit=1,
                          seed=1, wall_seconds=0.1, worst_share=0.5, hours_covered=10,
                          hours_needed=30, metrics={}, assignments=[], uncovered=[])
        session.add(run)
        session.flush()
        made[f"run_{side}"] = run.id
        for kind, status, decision in (
                ("engagement", EngagementStatus.proposed, Decision.pending),
                ("active_engagement", EngagementStatus.in_progress, Decision.accepted)):
            engagement = Engagement(
                organisation_id=w[team], run_id=run.id, offer_id=ids[f"offer_{side}"],
                provider_organisation_id=w[company], project_id=ids[f"project_{side}"],
                project_organisation_id=w[assoc], skill="gardening", hours=10,
                starts_on=MONDAY, ends_on=MONDAY + timedelta(days=60), distance_km=3.2,
                reasons=[{"code": "skill", "fr": "Compétence", "en": "Skill"}], status=status,
                provider_decision=decision, project_decision=decision)
            session.add(engagement)
            session.flush()
            made[f"{kind}_{side}"] = engagement.id
        log = HoursLog(engagement_id=made[f"active_engagement_{side}"], logged_by=w[logger],
                       worked_on=MONDAY, hours=2)
        session.add(log)
        session.flush()
        made[f"hour_log_{side}"] = log.id
    return made
