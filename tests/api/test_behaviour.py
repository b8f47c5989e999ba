"""Cross-cutting API behaviour: idempotent creates, audit, pseudonymity, paging, limits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.households.models import Household, HouseholdAudit
from tests.api.records import MONDAY, make_records
from tests.world import World


def household_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "reference": "AMP-FV-0100", "contact_name": "Samia K.", "phone": "06 39 98 12 34",
        "address": "Bât. B, Frais Vallon", "adults": 2, "children": 3, "infants": 1,
        "neighbourhood_id": str(world.ids["n1"]),
        "distribution_point_id": str(world.ids["point1"]),
        "excluded_products": [str(world.ids["eggs"])], "referral_reason": "job_loss",
        "valid_until": (MONDAY + timedelta(days=120)).isoformat(),
        "consent_date": (MONDAY - timedelta(days=2)).isoformat(),
        "last_contact_date": (MONDAY - timedelta(days=2)).isoformat(),
    }
    body.update(overrides)
    return body


def count_households(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Household)) or 0


def test_household_create_computes_consumption_units(client: TestClient, world: World) -> None:
    """2 adults, 3 children, 1 infant = 1 + 0.5 + 4 x 0.3 = 2.7 consumption units."""
    response = client.post("/api/v1/households", json=household_body(world),
                           headers=world.auth("assoc1"))
    assert response.status_code == 201, response.text
    assert response.json()["consumption_units"] == 2.7


def test_idempotency_key_replays_and_refuses_a_different_body(
    client: TestClient, world: World, session: Session
) -> None:
    """Same key + same body replays the stored answer; same key + other body is 422."""
    headers = {**world.auth("assoc1"), "Idempotency-Key": "abc-123"}
    before = count_households(session)
    first = client.post("/api/v1/households", json=household_body(world), headers=headers)
    again = client.post("/api/v1/households", json=household_body(world), headers=headers)
    other = client.post("/api/v1/households", json=household_body(world, adults=4),
                        headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert other.status_code == 422
    assert count_households(session) == before + 1


def test_unknown_references_write_nothing(client: TestClient, world: World,
                                          session: Session) -> None:
    """Another association's point and an unknown product: 422 naming both, nothing saved."""
    before = count_households(session)
    response = client.post(
        "/api/v1/households",
        json=household_body(world, distribution_point_id=str(world.ids["point1b"]),
                            excluded_products=[str(uuid.uuid4())]),
        headers=world.auth("assoc1"),
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"distribution_point_id", "excluded_products.0"}
    assert count_households(session) == before


def test_nul_character_is_refused_before_any_write(client: TestClient, world: World,
                                                  session: Session) -> None:
    """A NUL character (PostgreSQL cannot store it) is a 422 naming the field, not a 500."""
    before = count_households(session)
    response = client.post("/api/v1/households",
                           json=household_body(world, reference="FV-\x00-1"),
                           headers=world.auth("assoc1"))
    assert response.status_code == 422, response.text
    detail = response.json()["error"]["details"][0]
    assert detail["field"].endswith("reference")
    assert "nul" in detail["message"].lower()
    assert count_households(session) == before


def test_client_cannot_set_organisation_or_status(client: TestClient, world: World) -> None:
    """Unknown fields such as organisation_id are refused, in French, field by field."""
    response = client.post("/api/v1/households",
                           json=household_body(world, organisation_id=str(world.ids["assoc1b"])),
                           headers=world.auth("assoc1"))
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "body.organisation_id"
    assert detail["message"] == "Champ inconnu : il n'est pas accepté ici."


def test_audit_records_fields_not_values(client: TestClient, world: World,
                                         session: Session) -> None:
    """Create, update and archive each leave an audit row naming fields, never values."""
    created = client.post("/api/v1/households", json=household_body(world),
                          headers=world.auth("assoc1")).json()
    hid = created["id"]
    client.patch(f"/api/v1/households/{hid}", json={"phone": "06 39 98 55 55", "adults": 3},
                 headers=world.auth("assoc1"))
    client.post(f"/api/v1/households/{hid}/archive", headers=world.auth("assoc1"))
    trail = client.get(f"/api/v1/households/{hid}/audit", headers=world.auth("assoc1")).json()
    actions = [(row["action"], row["fields"]) for row in trail["items"]]
    assert ("update", ["adults", "phone"]) in actions
    assert ("archive", ["archived_at"]) in actions
    assert any(action == "create" for action, _ in actions)
    stored = session.scalars(select(HouseholdAudit)).all()
    dump = repr([(a.action, a.fields) for a in stored])
    assert "06 39 98" not in dump
    assert "Samia" not in dump
    assert all(a.user_id == world.ids["user_assoc1"] for a in stored)


def test_coordinators_see_households_without_identity(client: TestClient, world: World,
                                                      session: Session) -> None:
    """The coordination view lists the territory's households with no name, phone or address."""
    make_records(session, world)
    response = client.get("/api/v1/coordination/households", headers=world.auth("coord1"))
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["organisation_id"] for item in items} == {
        str(world.ids["assoc1"]), str(world.ids["assoc1b"])}
    for item in items:
        assert not {"contact_name", "phone", "address", "reference"} & set(item)
    other_territory = client.get("/api/v1/coordination/households", headers=world.auth("coord2"))
    assert str(world.ids["assoc1"]) not in other_territory.text


def test_lists_only_show_my_organisation(client: TestClient, world: World,
                                         session: Session) -> None:
    """An association's household list holds its own households, not its neighbour's."""
    make_records(session, world)
    mine = client.get("/api/v1/households", headers=world.auth("assoc1")).json()
    assert [item["reference"] for item in mine["items"]] == ["H-MINE"]


def test_page_limit_is_capped(client: TestClient, world: World, settings: Any) -> None:
    """A limit above the cap is served at the cap, with total and offset."""
    response = client.get("/api/v1/products?limit=100000&offset=0", headers=world.auth("assoc1"))
    body = response.json()
    assert response.status_code == 200
    assert body["limit"] == settings.page_limit_max
    assert body["total"] >= 2


def test_pagination_walks_every_item_once(client: TestClient, world: World,
                                          session: Session) -> None:
    """Pages of 2 cover the list exactly once."""
    for i in range(5):
        client.post("/api/v1/households", json=household_body(world, reference=f"P-{i}"),
                    headers=world.auth("assoc1"))
    seen: list[str] = []
    for offset in range(0, 6, 2):
        page = client.get(f"/api/v1/households?limit=2&offset={offset}",
                          headers=world.auth("assoc1")).json()
        seen += [item["reference"] for item in page["items"]]
        assert page["total"] == 5
    assert seen == [f"P-{i}" for i in range(5)]


def test_oversized_body_is_413(client: TestClient, world: World) -> None:
    """A body over the configured maximum is refused before it is read."""
    huge = {"title": "x" * 3_000_000}
    response = client.post("/api/v1/offers", json=huge, headers=world.auth("company1"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_published_week_is_frozen(client: TestClient, world: World, session: Session) -> None:
    """Once a week is published its lots and policy can no longer change (409)."""
    from baskets.weeks.models import Week, WeekStatus

    ids = make_records(session, world)
    week = session.get(Week, ids["week_mine"])
    assert week is not None
    week.status = WeekStatus.published
    session.commit()
    lot = client.patch(f"/api/v1/lots/{ids['lot_mine']}", json={"quantity_kg": 10},
                       headers=world.auth("coord1"))
    policy = client.patch(f"/api/v1/weeks/{ids['week_mine']}",
                          json={"policy": {"max_coverage": 1.5}}, headers=world.auth("coord1"))
    assert lot.status_code == policy.status_code == 409


def test_volunteer_signup_then_login(client: TestClient, world: World, session: Session) -> None:
    """A volunteer signs up with a territory code, then logs in and reads their profile."""
    from baskets.territory.models import Territory

    territory = session.get(Territory, world.ids["t1"])
    assert territory is not None
    body = {"territory_code": territory.code, "email": "lea@example.org", "full_name": "Léa M.",
            "password": "long-enough-pass", "home_area": "Marseille 3e", "lat": 43.31,
            "lon": 5.38, "vehicle_kind": "car", "capacity_kg": 180}
    first = client.post("/api/v1/volunteers/signup", json=body)
    again = client.post("/api/v1/volunteers/signup", json=body | {"password": "another-pass-1"})
    # The same answer for a new and a taken address: nobody learns who has an account.
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    token = client.post("/api/v1/auth/token",
                        data={"username": "lea@example.org", "password": "long-enough-pass"})
    me = client.get("/api/v1/volunteers/me",
                    headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["capacity_kg"] == 180


def test_english_validation_messages(client: TestClient, world: World) -> None:
    """Accept-Language: en gives English messages in the details too."""
    response = client.post("/api/v1/households", json=household_body(world, adults=0),
                           headers={**world.auth("assoc1"), "Accept-Language": "en"})
    error = response.json()["error"]
    assert error["message"] == "Some values are invalid; nothing was saved."
    assert error["details"][0]["message"] == "Input should be greater than or equal to 1"


def test_unexpected_error_is_a_french_500_without_data_in_logs(
    app: Any, caplog: Any
) -> None:
    """A crash answers the error shape in French and logs only the exception's type."""
    import logging

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("contact Samia 06 39 98 12 34")

    caplog.set_level(logging.DEBUG)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "inattendue" in response.json()["error"]["message"]
    assert "RuntimeError" in caplog.text
    assert "06 39 98" not in caplog.text


def test_patch_with_null_is_422_naming_the_field(client: TestClient, world: World,
                                                 session: Session) -> None:
    """PATCH with null on a field that cannot be empty answers 422 naming it (it gave 500 on
    lots, projects and offers), and changes nothing."""
    from tests.api.records import make_records

    ids = make_records(session, world)
    cases = [
        (f"/api/v1/lots/{ids['lot_mine']}", "coord1",
         ["quantity_kg", "harvest_date", "pickup_start", "pickup_end", "price_per_kg"]),
        (f"/api/v1/offers/{ids['offer_mine']}", "company1",
         ["title", "skills", "hours", "starts_on", "ends_on", "on_site", "remote_ok", "lat",
          "lon", "max_km", "min_chunk_hours"]),
        (f"/api/v1/projects/{ids['project_mine']}", "assoc1",
         ["title", "description", "remote_ok", "starts_on", "ends_on", "lat", "lon"]),
    ]
    for path, who, fields in cases:
        before = client.get(path, headers=world.auth(who)).json()
        for name in fields:
            response = client.patch(path, json={name: None}, headers=world.auth(who))
            assert response.status_code == 422, (path, name, response.text)
            assert response.json()["error"]["details"][0]["field"] == name
        assert client.get(path, headers=world.auth(who)).json() == before


def test_two_identical_allocation_starts_queue_one_job(world: World, session: Session) -> None:
    """Starting the week's allocation twice while the first is queued gives the same job:
    one solve, not two (the API answers 202 with it both times); other parameters, or a
    finished job, make a new one."""
    from baskets.allocation.service import start_allocation
    from baskets.jobs.models import Job, JobStatus
    from tests.api.records import make_records
    from tests.io.helpers import actor

    ids = make_records(session, world)
    coordinator = actor(session, world, "coord1")
    start = {"actor": coordinator, "week_id": ids["week_mine"], "time_limit": 5.0, "seed": 1}
    first = start_allocation(session, **start)
    second = start_allocation(session, **start)
    assert first.id == second.id
    assert start_allocation(session, **(start | {"seed": 2})).id != first.id
    first.status = JobStatus.succeeded
    session.flush()
    assert start_allocation(session, **start).id != first.id
    assert session.scalar(select(func.count()).select_from(Job).where(
        Job.kind == "allocation", Job.organisation_id == world.ids["team1"])) == 4
