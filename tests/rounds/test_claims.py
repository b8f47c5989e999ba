"""Volunteers claim, drop and drive rounds; concurrent claims have exactly one winner; a claim
needs a round not started, within one's availability (or confirmed) and overlapping nothing."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.common.scope import Actor
from baskets.errors import Conflict
from baskets.rounds import service
from baskets.rounds.models import Round, RoundPlan, RoundStatus, RoundStop, StopStatus
from baskets.territory.models import Territory
from baskets.volunteers.models import VehicleKind, Volunteer
from baskets.weeks.models import Week
from tests.api.records import MONDAY
from tests.rounds.conftest import plan
from tests.world import PASSWORD_HASH, World


def _second_volunteer(session: Session, world: World) -> str:
    """Another volunteer of team1 (coord1's token works for nobody else); returns their id."""
    from baskets.accounts.security import issue_token

    user = User(organisation_id=world.ids["team1"], email=f"v2.{uuid.uuid4().hex[:6]}@x.example",
                full_name="Second Bénévole", role=Role.volunteer, password_hash=PASSWORD_HASH)
    session.add(user)
    session.flush()
    session.add(Volunteer(user_id=user.id, organisation_id=world.ids["team1"], home_area="Aix",
                          lat=43.52, lon=5.45, vehicle_kind=VehicleKind.car, capacity_kg=80))
    session.commit()
    world.tokens["volunteer1b"] = issue_token(user.id, secret="test-secret-key-0123456789-abcdef",
                                              ttl_minutes=60)
    return str(user.id)


def test_volunteer_claims_drives_and_finishes_a_round(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """Open rounds list load, length and distance; a claim takes the round off the list and a
    second claim is 409; stops done (one with a problem) finish the round; the sheet has every
    stop with a navigation link."""
    plan(client, world, week)
    _second_volunteer(session, world)
    listed = client.get("/api/v1/rounds/open", headers=world.auth("volunteer1")).json()
    assert listed["total"] >= 1
    first = listed["items"][0]
    assert first["distance_km"] is not None
    assert first["km"] > 0
    assert first["peak_load_kg"] > 0
    claimed = client.post(f"/api/v1/rounds/{first['id']}/claim",
                          headers=world.auth("volunteer1"))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed"
    again = client.post(f"/api/v1/rounds/{first['id']}/claim", headers=world.auth("volunteer1b"))
    assert again.status_code == 409
    after = client.get("/api/v1/rounds/open", headers=world.auth("volunteer1b")).json()
    assert first["id"] not in {r["id"] for r in after["items"]}
    sheet = client.get(f"/api/v1/rounds/{first['id']}/sheet",
                       headers=world.auth("volunteer1")).json()
    assert [s["position"] for s in sheet["stops"]] == list(range(1, len(sheet["stops"]) + 1))
    assert all(s["geo_uri"].startswith("geo:") for s in sheet["stops"])
    hidden = client.get(f"/api/v1/rounds/{first['id']}/sheet", headers=world.auth("volunteer1b"))
    assert hidden.status_code == 404
    for k, stop in enumerate(sheet["stops"]):
        if k == 0:
            done = client.post(f"/api/v1/rounds/{first['id']}/stops/{stop['id']}/problem",
                               json={"note": "Portail fermé, livré à côté"},
                               headers=world.auth("volunteer1"))
        else:
            done = client.post(f"/api/v1/rounds/{first['id']}/stops/{stop['id']}/done",
                               headers=world.auth("volunteer1"))
        assert done.status_code == 200, done.text
    mine = client.get("/api/v1/rounds/mine", headers=world.auth("volunteer1")).json()
    assert {r["id"]: r["status"] for r in mine}[first["id"]] == "done"
    final = client.get(f"/api/v1/rounds/{first['id']}/sheet",
                       headers=world.auth("volunteer1")).json()
    assert final["stops"][0]["status"] == "problem"
    assert final["stops"][0]["note"] == "Portail fermé, livré à côté"


def test_drop_reopens_the_round(client: TestClient, world: World, session: Session,
                                week: uuid.UUID) -> None:
    """A dropped round is open again and another volunteer can claim it; only its driver
    may drop it or mark its stops."""
    plan(client, world, week)
    _second_volunteer(session, world)
    round_id = client.get("/api/v1/rounds/open",
                          headers=world.auth("volunteer1")).json()["items"][0]["id"]
    assert client.post(f"/api/v1/rounds/{round_id}/claim",
                       headers=world.auth("volunteer1")).status_code == 200
    dropped = client.post(f"/api/v1/rounds/{round_id}/drop", headers=world.auth("volunteer1"))
    assert dropped.status_code == 200
    assert dropped.json()["status"] == "open"
    assert dropped.json()["driver_id"] is None
    # The second volunteer gave no availability: the claim waits for their confirmation.
    asked = client.post(f"/api/v1/rounds/{round_id}/claim", headers=world.auth("volunteer1b"))
    assert asked.status_code == 409
    assert asked.json()["error"]["code"] == "confirmation_required"
    assert client.post(f"/api/v1/rounds/{round_id}/claim?confirm=true",
                       headers=world.auth("volunteer1b")).status_code == 200
    sheet = client.get(f"/api/v1/rounds/{round_id}/sheet",
                       headers=world.auth("volunteer1b")).json()
    refused = client.post(f"/api/v1/rounds/{round_id}/drop", headers=world.auth("volunteer1"))
    assert refused.status_code == 404
    stop = sheet["stops"][0]["id"]
    assert client.post(f"/api/v1/rounds/{round_id}/stops/{stop}/done",
                       headers=world.auth("volunteer1")).status_code == 404


def test_another_programmes_volunteer_sees_nothing(client: TestClient, world: World,
                                                   session: Session, week: uuid.UUID) -> None:
    """A volunteer of team2 lists no round of team1 and gets 404 on claiming one."""
    body = plan(client, world, week)
    session.add(Volunteer(user_id=world.ids["user_volunteer2"], organisation_id=world.ids["team2"],
                          home_area="Mulhouse", lat=47.75, lon=7.34))
    session.commit()
    listed = client.get("/api/v1/rounds/open", headers=world.auth("volunteer2")).json()
    assert listed["total"] == 0
    response = client.post(f"/api/v1/rounds/{body['rounds'][0]['id']}/claim",
                           headers=world.auth("volunteer2"))
    assert response.status_code == 404


def test_concurrent_claims_have_exactly_one_winner(engine: Engine) -> None:
    """Eight volunteers claim one round at the same instant, each in its own connection and
    transaction: one claim wins, seven get a conflict, and the round has that one driver."""
    suffix = uuid.uuid4().hex[:8]
    with Session(engine) as s:
        territory = Territory(code=f"RACE{suffix}", name="Course")
        s.add(territory)
        s.flush()
        team = Organisation(name="Équipe", kind=OrganisationKind.food_team,
                            territory_id=territory.id)
        s.add(team)
        s.flush()
        users = [User(organisation_id=team.id, email=f"race{k}.{suffix}@x.example",
                      full_name=f"V{k}", role=Role.volunteer, password_hash="x")
                 for k in range(8)]
        s.add_all(users)
        s.flush()
        s.add_all([Volunteer(user_id=u.id, organisation_id=team.id, home_area="A", lat=43.3,
                             lon=5.4) for u in users])
        week = Week(organisation_id=team.id, starts_on=MONDAY + timedelta(days=7))
        s.add(week)
        s.flush()
        round_plan = RoundPlan(organisation_id=team.id, week_id=week.id, solver_status="x",
                               time_limit=1, seed=1, wall_seconds=0, metrics={}, problem={})
        s.add(round_plan)
        s.flush()
        start = datetime.now(UTC) + timedelta(days=2)
        rnd = Round(plan_id=round_plan.id, organisation_id=team.id, week_id=week.id, number=1,
                    day=start.date().isoformat(), vehicle_ref="van:x", vehicle_label="Fourgon",
                    capacity_kg=500, refrigerated=False, km=10, duration_min=60,
                    starts_at=start, ends_at=start + timedelta(hours=1), peak_load_kg=100,
                    kg_handled=100, start_lat=43.3, start_lon=5.4, end_lat=43.3, end_lon=5.4)
        s.add(rnd)
        s.commit()
        ids = (territory.id, team.id, [u.id for u in users], week.id, rnd.id)
    territory_id, team_id, user_ids, week_id, round_id = ids
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(user_id: uuid.UUID) -> None:
        with Session(engine, expire_on_commit=False) as s:
            user = s.get(User, user_id)
            organisation = s.get(Organisation, team_id)
            assert user is not None
            assert organisation is not None
            actor = Actor(user=user, organisation=organisation)
            # End the reading transaction (on SQLite it holds the write lock) before the race.
            s.commit()
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            try:
                # confirm: these volunteers gave no availability; the race is the point.
                service.claim_round(s, actor=actor, round_id=round_id, confirm=True)
                s.commit()
                result = "won"
            except Conflict:
                s.rollback()
                result = "conflict"
            with lock:
                outcomes.append(result)

    try:
        threads = [threading.Thread(target=claim, args=(u,)) for u in user_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        with Session(engine) as s:
            stored = s.get(Round, round_id)
            assert stored is not None
            assert stored.status is RoundStatus.claimed
            winner = s.scalar(select(Volunteer.user_id).where(Volunteer.id == stored.driver_id))
            assert winner in user_ids
    finally:
        with Session(engine) as s:
            s.execute(delete(RoundPlan).where(RoundPlan.week_id == week_id))
            s.execute(delete(Round).where(Round.week_id == week_id))
            s.execute(delete(Week).where(Week.id == week_id))
            s.execute(delete(Volunteer).where(Volunteer.user_id.in_(user_ids)))
            s.execute(delete(User).where(User.id.in_(user_ids)))
            s.execute(delete(Organisation).where(Organisation.id == team_id))
            s.execute(delete(Territory).where(Territory.id == territory_id))
            s.commit()


def _open_round(client: TestClient, world: World, user: str = "volunteer1") -> dict:  # type: ignore[type-arg]
    listed = client.get("/api/v1/rounds/open", headers=world.auth(user)).json()
    assert listed["total"] >= 1
    return listed["items"][0]  # type: ignore[no-any-return]


def test_a_started_round_cannot_be_claimed(client: TestClient, world: World, session: Session,
                                           week: uuid.UUID) -> None:
    """A round whose start has passed is no longer offered, and a claim of it is refused
    (confirmed or not), in French and English; it stays open with no driver."""
    plan(client, world, week)
    round_id = uuid.UUID(_open_round(client, world)["id"])
    rnd = session.get(Round, round_id)
    assert rnd is not None
    length = rnd.ends_at - rnd.starts_at
    rnd.starts_at = datetime.now(UTC) - timedelta(minutes=5)
    rnd.ends_at = rnd.starts_at + length
    session.commit()
    listed = client.get("/api/v1/rounds/open", headers=world.auth("volunteer1")).json()
    assert str(round_id) not in {r["id"] for r in listed["items"]}
    for suffix in ("", "?confirm=true"):
        refused = client.post(f"/api/v1/rounds/{round_id}/claim{suffix}",
                              headers=world.auth("volunteer1"))
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "conflict"
        assert "a commencé" in refused.json()["error"]["message"]
    english = client.post(f"/api/v1/rounds/{round_id}/claim",
                          headers={**world.auth("volunteer1"), "Accept-Language": "en"})
    assert "started" in english.json()["error"]["message"]
    session.expire_all()
    stored = session.get(Round, round_id)
    assert stored is not None
    assert (stored.status, stored.driver_id) == (RoundStatus.open, None)


def test_a_claim_outside_availability_needs_a_confirmation(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """A volunteer free only on another day is warned (409 confirmation_required naming the
    day and their slots) and nothing is taken; repeated with confirm=true the claim stands."""
    plan(client, world, week)
    first = _open_round(client, world)
    volunteer = session.scalar(select(Volunteer).where(
        Volunteer.user_id == world.ids["user_volunteer1"]))
    assert volunteer is not None
    weekday = datetime.fromisoformat(first["starts_at"]).astimezone(ZoneInfo("Europe/Paris"))\
        .weekday()
    volunteer.availability = [{"weekday": (weekday + 1) % 7, "start": "08:00", "end": "12:00"},
                              {"weekday": weekday, "start": "00:00", "end": "00:30"}]
    session.commit()
    warned = client.post(f"/api/v1/rounds/{first['id']}/claim",
                         headers=world.auth("volunteer1"))
    assert warned.status_code == 409
    error = warned.json()["error"]
    assert error["code"] == "confirmation_required"
    assert "sort de vos disponibilités" in error["message"]
    assert "00:00–00:30" in error["message"]
    english = client.post(f"/api/v1/rounds/{first['id']}/claim",
                          headers={**world.auth("volunteer1"), "Accept-Language": "en"})
    assert "outside your availability" in english.json()["error"]["message"]
    session.expire_all()
    assert session.get(Round, uuid.UUID(first["id"])).driver_id is None  # type: ignore[union-attr]
    confirmed = client.post(f"/api/v1/rounds/{first['id']}/claim?confirm=true",
                            headers=world.auth("volunteer1"))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "claimed"


def test_a_claim_overlapping_a_driven_round_is_refused(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """Once a volunteer drives a round, a second round at overlapping times is refused even
    confirmed, naming the round they drive; a round right after it can be taken."""
    plan(client, world, week)
    items = client.get("/api/v1/rounds/open", headers=world.auth("volunteer1")).json()["items"]
    assert len(items) >= 2
    first, second = (session.get(Round, uuid.UUID(items[k]["id"])) for k in (0, 1))
    assert first is not None
    assert second is not None
    second.starts_at = first.starts_at + (first.ends_at - first.starts_at) / 2
    second.ends_at = first.ends_at + timedelta(minutes=30)
    session.commit()
    assert client.post(f"/api/v1/rounds/{first.id}/claim",
                       headers=world.auth("volunteer1")).status_code == 200
    for suffix in ("", "?confirm=true"):
        refused = client.post(f"/api/v1/rounds/{second.id}/claim{suffix}",
                              headers=world.auth("volunteer1"))
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "conflict"
        assert f"tournée n° {first.number}" in refused.json()["error"]["message"]
    session.expire_all()
    second = session.get(Round, second.id)
    assert second is not None
    assert second.driver_id is None
    first = session.get(Round, first.id)
    assert first is not None
    second.starts_at = first.ends_at
    second.ends_at = first.ends_at + timedelta(minutes=30)
    session.commit()
    after = client.post(f"/api/v1/rounds/{second.id}/claim", headers=world.auth("volunteer1"))
    assert after.status_code == 200, after.text


def test_giving_back_a_round_with_a_stop_done_needs_a_confirmation(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """A round with a stop done and one reported is given back only once confirmed; before,
    it stays the driver's; after, it is open and the marks stay."""
    plan(client, world, week)
    round_id = _open_round(client, world)["id"]
    assert client.post(f"/api/v1/rounds/{round_id}/claim",
                       headers=world.auth("volunteer1")).status_code == 200
    stops = client.get(f"/api/v1/rounds/{round_id}/sheet",
                       headers=world.auth("volunteer1")).json()["stops"]
    assert len(stops) >= 3
    client.post(f"/api/v1/rounds/{round_id}/stops/{stops[0]['id']}/done",
                headers=world.auth("volunteer1"))
    client.post(f"/api/v1/rounds/{round_id}/stops/{stops[1]['id']}/problem",
                json={"note": "Ferme fermée"}, headers=world.auth("volunteer1"))
    asked = client.post(f"/api/v1/rounds/{round_id}/drop", headers=world.auth("volunteer1"))
    assert asked.status_code == 409
    assert asked.json()["error"]["code"] == "confirmation_required"
    assert asked.json()["error"]["details"] == {"reason": "stops_marked", "done": 1,
                                                "problems": 1}
    assert "1 étape(s)" in asked.json()["error"]["message"]
    mine = client.get("/api/v1/rounds/mine", headers=world.auth("volunteer1")).json()
    assert {r["id"]: r["status"] for r in mine}[round_id] == "claimed"
    dropped = client.post(f"/api/v1/rounds/{round_id}/drop?confirm=true",
                          headers=world.auth("volunteer1"))
    assert dropped.status_code == 200
    assert (dropped.json()["status"], dropped.json()["driver_id"]) == ("open", None)
    session.expire_all()
    kept = session.scalars(select(RoundStop).where(RoundStop.round_id == uuid.UUID(round_id))
                           .order_by(RoundStop.position)).all()
    assert [s.status for s in kept[:2]] == [StopStatus.done, StopStatus.problem]


def test_availability_covers_a_span_with_touching_slots() -> None:
    """Slots that touch cover a round across them; a gap or a minute past the end does not."""
    from baskets.rounds.availability import within_availability

    tz = ZoneInfo("Europe/Paris")
    thursday = datetime(2026, 12, 10, 9, 0, tzinfo=tz)
    slots = [{"weekday": 3, "start": "08:00", "end": "10:00"},
             {"weekday": 3, "start": "10:00", "end": "12:00"},
             {"weekday": 4, "start": "06:00", "end": "20:00"}]
    assert within_availability(slots, thursday, thursday + timedelta(hours=3))
    assert not within_availability(slots, thursday, thursday + timedelta(hours=3, minutes=1))
    gap = [{"weekday": 3, "start": "08:00", "end": "10:00"},
           {"weekday": 3, "start": "10:30", "end": "12:00"}]
    assert not within_availability(gap, thursday, thursday + timedelta(hours=2))
    assert not within_availability(slots, thursday - timedelta(hours=2), thursday)


def test_a_stop_marked_twice_with_one_key_is_marked_once(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """A phone replaying "done" with its Idempotency-Key gets the first answer back and the
    stop keeps its first time; the key used for a problem report instead is refused."""
    plan(client, world, week)
    round_id = _open_round(client, world)["id"]
    client.post(f"/api/v1/rounds/{round_id}/claim", headers=world.auth("volunteer1"))
    stop = client.get(f"/api/v1/rounds/{round_id}/sheet",
                      headers=world.auth("volunteer1")).json()["stops"][0]["id"]
    headers = {**world.auth("volunteer1"), "Idempotency-Key": "phone-1"}
    first = client.post(f"/api/v1/rounds/{round_id}/stops/{stop}/done", headers=headers)
    assert first.status_code == 200, first.text
    again = client.post(f"/api/v1/rounds/{round_id}/stops/{stop}/done", headers=headers)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["done_at"] == first.json()["done_at"]
    session.expire_all()
    stored = session.get(RoundStop, uuid.UUID(stop))
    assert stored is not None
    assert stored.done_at is not None
    assert stored.done_at.isoformat().startswith(first.json()["done_at"][:19])
    other = client.post(f"/api/v1/rounds/{round_id}/stops/{stop}/problem",
                        json={"note": "Fermé"}, headers=headers)
    assert other.status_code == 422
