"""A week of team1 ready for round planning: farms, lots, households, points, a van, cars."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from baskets.households.models import Household, ReferralReason
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint
from baskets.volunteers.models import Vehicle, VehicleKind, Volunteer
from baskets.weeks.models import Week
from tests.api.records import MONDAY
from tests.world import World


@pytest.fixture
def week(session: Session, world: World) -> uuid.UUID:
    """Next week of team1: two farms (one with a perishable lot) picked up on Monday morning,
    two points opening on Wednesday morning, six households, a van and a refrigerated van,
    and volunteer1 with a car, free on Wednesday morning."""
    w = world.ids
    farms = [Farmer(organisation_id=w["team1"], name="Ferme du Nord", siret="12345678900017",
                    address="Allauch", lat=43.336, lon=5.482),
             Farmer(organisation_id=w["team1"], name="=Mas des Pins", siret="12345678900025",
                    address="Aubagne", lat=43.29, lon=5.57)]
    strawberries = Product(name=f"Fraises {uuid.uuid4().hex[:6]}", category=Category.fruit,
                           unit_kg=None, shelf_life_days=3)
    session.add_all([*farms, strawberries])
    point = session.get(DistributionPoint, w["point1"])
    other = session.get(DistributionPoint, w["point1b"])
    assert point is not None
    assert other is not None
    point.opening_hours = [{"weekday": 2, "opens": "10:00", "closes": "12:00"}]
    other.opening_hours = [{"weekday": 2, "opens": "10:30", "closes": "12:30"}]
    week = Week(organisation_id=w["team1"], starts_on=MONDAY + timedelta(days=7))
    session.add(week)
    session.flush()
    # 06:00 UTC is 07:00 or 08:00 in Paris: the morning either way.
    start = datetime.combine(week.starts_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    for farm, product_id, kg in ((farms[0], w["leek"], 40.0), (farms[1], strawberries.id, 20.0),
                                 (farms[1], w["leek"], 30.0)):
        session.add(SupplyLot(organisation_id=w["team1"], week_id=week.id, farmer_id=farm.id,
                              product_id=product_id, quantity_kg=kg,
                              harvest_date=week.starts_on, pickup_start=start,
                              pickup_end=start + timedelta(hours=3), price_per_kg=2.0))
    for index, (assoc, point_key) in enumerate([("assoc1", "point1")] * 3
                                               + [("assoc1b", "point1b")] * 3):
        session.add(Household(
            organisation_id=w[assoc], reference=f"R-{index}", contact_name="Nom",
            adults=2, children=index % 3, neighbourhood_id=w["n1"],
            distribution_point_id=w[point_key], referral_reason=ReferralReason.other,
            valid_until=week.starts_on + timedelta(days=30), consent_date=MONDAY,
            last_contact_date=MONDAY))
    session.add_all([
        Vehicle(organisation_id=w["team1"], name="A Fourgon", capacity_kg=60, depot_lat=43.338,
                depot_lon=5.386, shift_start="06:00", shift_end="16:00", max_duration_min=600),
        Vehicle(organisation_id=w["team1"], name="B Frigo", capacity_kg=80, refrigerated=True,
                depot_lat=43.338, depot_lon=5.386, shift_start="06:00", shift_end="16:00",
                max_duration_min=600),
        Volunteer(user_id=w["user_volunteer1"], organisation_id=w["team1"],
                  home_area="Marseille 13e", lat=43.35, lon=5.43, vehicle_kind=VehicleKind.car,
                  capacity_kg=100,
                  availability=[{"weekday": d, "start": "06:00", "end": "18:00"}
                                for d in range(7)]),
    ])
    session.commit()
    return week.id


def run_job(client: TestClient, world: World, path: str, body: dict,  # type: ignore[type-arg]
            user: str = "coord1") -> dict:  # type: ignore[type-arg]
    """POST a solve: 202 with the job's URL; the job (run once the request committed) has
    succeeded; its stored result."""
    started = client.post(f"/api/v1{path}", json=body, headers=world.auth(user))
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == started.json()["url"]
    job = client.get(started.json()["url"], headers=world.auth(user)).json()
    assert job["status"] == "succeeded", job
    return job["result"]  # type: ignore[no-any-return]


def plan(client: TestClient, world: World, week_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    """Allocate then plan the week through the API; the stored plan."""
    allocated = client.post(f"/api/v1/weeks/{week_id}/allocation",
                            json={"time_limit": 3, "seed": 1}, headers=world.auth("coord1"))
    assert allocated.status_code == 202, allocated.text
    result = run_job(client, world, f"/weeks/{week_id}/rounds", {"time_limit": 2, "seed": 1})
    planned = client.get(result["url"], headers=world.auth("coord1"))
    assert planned.status_code == 200, planned.text
    assert planned.json()["id"] == result["plan_id"]
    return planned.json()  # type: ignore[no-any-return]
