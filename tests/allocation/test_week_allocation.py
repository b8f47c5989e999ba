"""Allocating a week from the database: stored baskets, re-runs, packing lists, freezing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.households.models import Household, ReferralReason
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.weeks.models import Week
from tests.api.records import MONDAY
from tests.world import World


@pytest.fixture
def week(session: Session, world: World) -> uuid.UUID:
    """A week of team1 with 3 lots (two vegetables by weight, eggs by the piece) and
    5 households of two associations of the territory."""
    w = world.ids
    farmer = Farmer(organisation_id=w["team1"], name="Ferme", siret="12345678900017",
                    address="Châteaurenard", lat=43.88, lon=4.85)
    carrots = Product(name=f"Carottes {uuid.uuid4().hex[:6]}", category=Category.vegetable,
                      unit_kg=None, shelf_life_days=20)
    session.add_all([farmer, carrots])
    week = Week(organisation_id=w["team1"], starts_on=MONDAY + timedelta(days=14))
    session.add(week)
    session.flush()
    start = datetime.combine(week.starts_on, datetime.min.time(), tzinfo=UTC)
    for product_id, kg in ((w["leek"], 30.0), (carrots.id, 30.0), (w["eggs"], 36 * 0.36)):
        session.add(SupplyLot(organisation_id=w["team1"], week_id=week.id, farmer_id=farmer.id,
                              product_id=product_id, quantity_kg=kg,
                              harvest_date=week.starts_on, pickup_start=start,
                              pickup_end=start + timedelta(hours=2), price_per_kg=2.0))
    sizes = [("assoc1", "point1", 1, 0), ("assoc1", "point1", 2, 2), ("assoc1", "point1", 1, 1),
             ("assoc1b", "point1b", 2, 0), ("assoc1b", "point1b", 1, 3)]
    for index, (assoc, point, adults, children) in enumerate(sizes):
        session.add(Household(
            organisation_id=w[assoc], reference=f"W-{index}", contact_name="Nom Secret",
            adults=adults, children=children, neighbourhood_id=w["n1"],
            distribution_point_id=w[point], referral_reason=ReferralReason.other,
            excluded_products=[str(w["eggs"])] if index == 2 else [],
            valid_until=week.starts_on + timedelta(days=30),
            consent_date=MONDAY, last_contact_date=MONDAY))
    session.commit()
    return week.id


def allocate(client: TestClient, world: World, week_id: uuid.UUID, **headers: str) -> dict:
    response = client.post(f"/api/v1/weeks/{week_id}/allocation",
                           json={"time_limit": 5, "seed": 1},
                           headers={**world.auth("coord1"), **headers})
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == response.json()["url"]
    # Without a broker, the test app runs the job right after the request's commit.
    job = client.get(response.json()["url"], headers=world.auth("coord1")).json()
    assert job["status"] == "succeeded", job
    stored = client.get(f"/api/v1/weeks/{week_id}/allocation", headers=world.auth("coord1"))
    assert stored.status_code == 200, stored.text
    return stored.json()  # type: ignore[no-any-return]


def test_allocation_stores_a_basket_per_household(client: TestClient, world: World,
                                                  session: Session, week: uuid.UUID) -> None:
    """Each active household gets a stored basket; no lot gives more than it holds."""
    body = allocate(client, world, week)
    baskets = session.scalars(select(AllocatedBasket).where(AllocatedBasket.week_id == week)).all()
    assert len(baskets) == 5
    given: dict[str, float] = {}
    for basket in baskets:
        for item in basket.items:
            given[item["lot_id"]] = given.get(item["lot_id"], 0.0) + item["kg"]
    lots = {str(lot.id): lot for lot in session.scalars(
        select(SupplyLot).where(SupplyLot.week_id == week))}
    for lot_id, kg in given.items():
        assert kg <= lots[lot_id].quantity_kg + 1e-6
    assert body["metrics"]["min_coverage"] > 0
    assert body["neighbourhoods"][0]["households"] == 5
    assert session.get(Week, week).status.value == "allocated"  # type: ignore[union-attr]


def test_excluded_product_never_in_the_basket(client: TestClient, world: World,
                                              session: Session, week: uuid.UUID) -> None:
    """The household that excludes eggs receives none."""
    allocate(client, world, week)
    household = session.scalar(select(Household).where(Household.reference == "W-2"))
    assert household is not None
    basket = session.scalar(select(AllocatedBasket).where(
        AllocatedBasket.household_id == household.id))
    assert basket is not None
    assert str(world.ids["eggs"]) not in {item["product_id"] for item in basket.items}


def test_rerun_replaces_the_allocation_whole(client: TestClient, world: World,
                                             session: Session, week: uuid.UUID) -> None:
    """Allocating again leaves exactly one allocation and one basket per household."""
    first = allocate(client, world, week)
    second = allocate(client, world, week)
    assert first["id"] != second["id"]
    allocations = session.scalar(select(func.count()).select_from(Allocation).where(
        Allocation.week_id == week))
    baskets = session.scalar(select(func.count()).select_from(AllocatedBasket).where(
        AllocatedBasket.week_id == week))
    assert (allocations, baskets) == (1, 5)


def test_association_sees_only_its_baskets(client: TestClient, world: World,
                                           week: uuid.UUID) -> None:
    """An association lists its own households' baskets with their references; a coordinator
    lists all without any reference."""
    allocate(client, world, week)
    mine = client.get(f"/api/v1/weeks/{week}/baskets", headers=world.auth("assoc1")).json()
    assert sorted(b["household_reference"] for b in mine["items"]) == ["W-0", "W-1", "W-2"]
    everyone = client.get(f"/api/v1/weeks/{week}/baskets", headers=world.auth("coord1")).json()
    assert everyone["total"] == 5
    assert {b["household_reference"] for b in everyone["items"]} == {None}
    assert "Nom Secret" not in str(everyone)


def test_packing_list_adds_up_the_point_baskets(client: TestClient, world: World,
                                                week: uuid.UUID) -> None:
    """A point's packing list totals equal the sum of its baskets, pieces whole."""
    allocate(client, world, week)
    packing = client.get(f"/api/v1/weeks/{week}/packing-lists/{world.ids['point1']}",
                         headers=world.auth("assoc1")).json()
    baskets = client.get(f"/api/v1/weeks/{week}/baskets", headers=world.auth("assoc1")).json()
    total = sum(b["kg"] for b in baskets["items"])
    assert packing["kg"] == pytest.approx(total, abs=0.05)
    assert packing["baskets"] == sum(1 for b in baskets["items"] if b["kg"] > 0)
    eggs = [line for line in packing["lines"] if line["product_id"] == str(world.ids["eggs"])]
    assert all(isinstance(line["pieces"], int) for line in eggs)
    other = client.get(f"/api/v1/weeks/{week}/packing-lists/{world.ids['point1b']}",
                       headers=world.auth("assoc1"))
    assert other.status_code == 404


def test_published_week_is_frozen(client: TestClient, world: World, session: Session,
                                  week: uuid.UUID) -> None:
    """After publication a new allocation is refused (409) and the stored one is unchanged."""
    first = allocate(client, world, week)
    published = client.post(f"/api/v1/weeks/{week}/publish", headers=world.auth("coord1"))
    assert published.json()["status"] == "published"
    again = client.post(f"/api/v1/weeks/{week}/allocation", json={},
                        headers=world.auth("coord1"))
    assert again.status_code == 409
    stored = client.get(f"/api/v1/weeks/{week}/allocation", headers=world.auth("coord1"))
    assert stored.json()["id"] == first["id"]


def test_week_without_lots_is_refused(client: TestClient, world: World) -> None:
    """Allocating a week with no lot answers 422 with a French message and stores nothing."""
    created = client.post("/api/v1/weeks",
                          json={"starts_on": (MONDAY + timedelta(days=21)).isoformat()},
                          headers=world.auth("coord1")).json()
    response = client.post(f"/api/v1/weeks/{created['id']}/allocation", json={},
                           headers=world.auth("coord1"))
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Aucun lot n'est saisi pour cette semaine."
    assert client.get(f"/api/v1/weeks/{created['id']}/allocation",
                      headers=world.auth("coord1")).status_code == 404


def test_collected_is_recorded_by_the_association(client: TestClient, world: World,
                                                  week: uuid.UUID) -> None:
    """The association marks a basket collected; another association cannot see it."""
    allocate(client, world, week)
    basket = client.get(f"/api/v1/weeks/{week}/baskets", headers=world.auth("assoc1")).json()[
        "items"][0]
    marked = client.post(f"/api/v1/baskets/{basket['id']}/collected", json={"collected": True},
                         headers=world.auth("assoc1"))
    assert marked.json()["collected"] is True
    foreign = client.post(f"/api/v1/baskets/{basket['id']}/collected",
                          json={"collected": False}, headers=world.auth("assoc1b"))
    assert foreign.status_code == 404


def test_binding_rules_in_the_asked_language(client: TestClient, world: World,
                                             week: uuid.UUID) -> None:
    """Binding rules come back in French by default and in English on request."""
    french = allocate(client, world, week)
    english = client.get(f"/api/v1/weeks/{week}/allocation",
                         headers={**world.auth("coord1"), "Accept-Language": "en"}).json()
    assert len(french["binding"]) == len(english["binding"])
    for fr, en in zip(french["binding"], english["binding"], strict=True):
        assert fr["rule"] == en["rule"]
        if fr["message"]:
            assert fr["message"] != en["message"]


def test_carry_over_raises_last_weeks_short_households(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """With the policy's carry_over, a household short last week (coverage 60 %) targets 1.4
    this week (capped by max_coverage) and, in a short week, gets more than the others;
    without it, nobody carries anything."""
    from baskets.allocation import service
    from baskets.weeks.schemas import Policy

    allocate(client, world, week)
    first = session.scalars(select(Household).where(Household.reference == "W-0")).one()
    short = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week, AllocatedBasket.household_id == first.id)).one()
    short.coverage = 0.6  # last week, this household was 40 % short
    current = session.get(Week, week)
    assert current is not None
    later = Week(organisation_id=world.ids["team1"],
                 starts_on=current.starts_on + timedelta(days=7),
                 policy=Policy(carry_over=True).model_dump(mode="json"))
    session.add(later)
    session.flush()
    for lot in session.scalars(select(SupplyLot).where(SupplyLot.week_id == week)):
        if lot.product_id != world.ids["eggs"]:  # 16 kg of vegetables for about 31 kg needed
            session.add(SupplyLot(
                organisation_id=lot.organisation_id, week_id=later.id, farmer_id=lot.farmer_id,
                product_id=lot.product_id, quantity_kg=8.0, harvest_date=later.starts_on,
                pickup_start=lot.pickup_start + timedelta(days=7),
                pickup_end=lot.pickup_end + timedelta(days=7), price_per_kg=2.0))
    session.commit()
    problem = service.build_problem(session, later)
    carried = {h.id: h.carry_over for h in problem.households}
    assert carried[str(first.id)] == pytest.approx(0.4)
    assert all(c == 0.0 for h, c in carried.items() if h != str(first.id))
    body = allocate(client, world, later.id)
    assert body["solver_status"] in ("optimal", "feasible")
    coverage = {b.household_id: b.coverage for b in session.scalars(
        select(AllocatedBasket).where(AllocatedBasket.week_id == later.id))}
    assert coverage[first.id] > max(c for h, c in coverage.items() if h != first.id) + 0.05
    later.policy = Policy(carry_over=False).model_dump(mode="json")
    session.flush()
    assert all(h.carry_over == 0.0 for h in service.build_problem(session, later).households)
