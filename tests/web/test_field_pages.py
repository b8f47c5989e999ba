"""The field pages without a browser: claim and drop confirmations without JavaScript, marks
sent by the offline queue (JSON, idempotent, refusals shown), the point's search, count and
named exclusions, the sheet's links and waits, the service worker and the manifest."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket
from baskets.common.models import IdempotencyRecord
from baskets.config import Settings
from baskets.households.models import Household
from baskets.rounds.models import Round, RoundStatus, RoundStop, StopStatus
from baskets.supply.models import Product
from baskets.territory.models import DistributionPoint
from baskets.volunteers.models import Volunteer
from tests.api.records import make_records
from tests.io.weekdata import make_week
from tests.web.test_pages import csrf_of, login_as
from tests.world import World


@pytest.fixture
def records(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_records(session, world)


def _volunteer(session: Session, world: World) -> Volunteer:
    volunteer = session.scalar(select(Volunteer).where(
        Volunteer.user_id == world.ids["user_volunteer1"]))
    assert volunteer is not None
    return volunteer


def test_a_claim_outside_availability_asks_first_without_javascript(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """Outside the volunteer's availability, the claim answers a page with the warning, a
    form that repeats it confirmed and a way back; nothing is taken until it is sent."""
    _volunteer(session, world).availability = []
    session.commit()
    login_as(client, settings, world, "volunteer1")
    token = csrf_of(client, "/rounds")
    round_id = records["round_mine"]
    asked = client.post(f"/rounds/{round_id}/claim", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "Prendre cette tournée ?" in asked.text
    assert "sort de vos disponibilités" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert f'action="/rounds/{round_id}/claim"' in asked.text
    assert 'href="/rounds"' in asked.text
    session.expire_all()
    assert session.get(Round, round_id).status is RoundStatus.open  # type: ignore[union-attr]
    taken = client.post(f"/rounds/{round_id}/claim",
                        data={"csrf_token": token, "confirm": "yes"})
    assert "Tournée prise : merci !" in taken.text
    session.expire_all()
    assert session.get(Round, round_id).status is RoundStatus.claimed  # type: ignore[union-attr]


def test_the_open_rounds_page_hides_started_rounds_and_flags_availability(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """A round whose start has passed is not offered; one outside the volunteer's
    availability says a confirmation will be asked."""
    login_as(client, settings, world, "volunteer1")
    listed = client.get("/rounds").text
    assert f'action="/rounds/{records["round_mine"]}/claim"' in listed
    assert "on vous demandera de confirmer" not in listed
    _volunteer(session, world).availability = []
    session.commit()
    assert "on vous demandera de confirmer" in client.get("/rounds").text
    rnd = session.get(Round, records["round_mine"])
    assert rnd is not None
    rnd.starts_at -= timedelta(days=3)
    session.commit()
    assert f'action="/rounds/{records["round_mine"]}/claim"' not in client.get("/rounds").text


def test_giving_back_a_round_with_a_stop_done_asks_first(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """With a stop done, "Rendre la tournée" shows the confirmation; the round stays the
    driver's until it is confirmed, then it is open again and the stop stays done."""
    login_as(client, settings, world, "volunteer1")
    token = csrf_of(client, "/rounds")
    driven = records["driven_mine"]
    client.post(f"/rounds/{driven}/stops/{records['stop_mine']}/problem",
                data={"csrf_token": token, "note": "Portail fermé"})
    rnd = session.get(Round, driven)
    assert rnd is not None
    rnd.status = RoundStatus.claimed  # its only stop reported: still driven for this test
    session.commit()
    asked = client.post(f"/rounds/{driven}/drop", data={"csrf_token": token})
    assert "Rendre cette tournée ?" in asked.text
    assert "signalé 1 problème(s)" in asked.text
    session.expire_all()
    assert session.get(Round, driven).driver_id is not None  # type: ignore[union-attr]
    client.post(f"/rounds/{driven}/drop", data={"csrf_token": token, "confirm": "yes"})
    session.expire_all()
    dropped = session.get(Round, driven)
    assert dropped is not None
    assert (dropped.status, dropped.driver_id) == (RoundStatus.open, None)
    assert session.get(RoundStop, records["stop_mine"]).status is StopStatus.problem  # type: ignore[union-attr]


def test_a_queued_stop_mark_is_applied_once(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """A "Fait" from the queue answers JSON; sent again with its key it answers the same and
    changes nothing (same time, one record); the key reused for another mark is refused."""
    login_as(client, settings, world, "volunteer1")
    token = csrf_of(client, "/rounds")
    path = f"/rounds/{records['driven_mine']}/stops/{records['stop_mine']}/done"
    key = str(uuid.uuid4())
    first = client.post(path, data={"csrf_token": token},
                        headers={"Idempotency-Key": key, "Accept": "application/json"})
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "done"
    session.expire_all()
    done_at = session.get(RoundStop, records["stop_mine"]).done_at  # type: ignore[union-attr]
    again = client.post(path, data={"csrf_token": token},
                        headers={"Idempotency-Key": key, "Accept": "application/json"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    session.expire_all()
    assert session.get(RoundStop, records["stop_mine"]).done_at == done_at  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)
                          .where(IdempotencyRecord.key == key)) == 1
    other = client.post(path.replace("/done", "/problem"),
                        data={"csrf_token": token, "note": "Autre chose"},
                        headers={"Idempotency-Key": key, "Accept": "application/json"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "invalid"


def test_a_refused_queued_mark_says_why_in_the_page_language(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """A queued mark the server refuses comes back as JSON with the reason (French, or
    English for an English page) and writes nothing: a round someone else now drives, a
    problem without a note."""
    login_as(client, settings, world, "volunteer1")
    token = csrf_of(client, "/rounds")
    rnd = session.get(Round, records["driven_mine"])
    assert rnd is not None
    rnd.driver_id = None
    rnd.status = RoundStatus.open
    session.commit()
    path = f"/rounds/{records['driven_mine']}/stops/{records['stop_mine']}/done"
    refused = client.post(path, data={"csrf_token": token},
                          headers={"Idempotency-Key": "k-1", "Accept": "application/json"})
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "Prenez d'abord cette tournée."
    client.cookies.set("baskets_lang", "en")
    english = client.post(path, data={"csrf_token": csrf_of(client, "/rounds")},
                          headers={"Idempotency-Key": "k-2", "Accept": "application/json"})
    assert english.json()["error"]["message"] == "Claim this round first."
    rnd.driver_id = _volunteer(session, world).id
    rnd.status = RoundStatus.claimed
    session.commit()
    empty = client.post(path.replace("/done", "/problem"),
                        data={"csrf_token": csrf_of(client, "/rounds")},
                        headers={"Idempotency-Key": "k-3", "Accept": "application/json"})
    assert empty.status_code == 422
    session.expire_all()
    assert session.get(RoundStop, records["stop_mine"]).status is StopStatus.pending  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)
                          .where(IdempotencyRecord.key.in_(["k-1", "k-2", "k-3"]))) == 0


def test_a_queued_collection_mark_is_applied_once_and_a_reallocated_basket_is_refused(
        client: TestClient, settings: Settings, world: World, session: Session) -> None:
    """"Retiré" from the queue is stored once whatever the replays; a basket that no longer
    exists (the week was re-allocated) is refused with its reason, not dropped."""
    week = make_week(session, world)
    basket = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week,
        AllocatedBasket.distribution_point_id == world.ids["point1"])).first()
    assert basket is not None
    login_as(client, settings, world, "assoc1")
    token = csrf_of(client)
    headers = {"Idempotency-Key": "basket-1", "Accept": "application/json"}
    data = {"csrf_token": token, "collected": "yes"}
    first = client.post(f"/baskets/{basket.id}/collected", data=data, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "collected"
    session.expire_all()
    collected_at = session.get(AllocatedBasket, basket.id).collected_at  # type: ignore[union-attr]
    for _ in range(2):
        again = client.post(f"/baskets/{basket.id}/collected", data=data, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
    session.expire_all()
    assert session.get(AllocatedBasket, basket.id).collected_at == collected_at  # type: ignore[union-attr]
    session.execute(delete(AllocatedBasket).where(AllocatedBasket.id == basket.id))
    session.commit()
    gone = client.post(f"/baskets/{basket.id}/collected", data=data,
                       headers={"Idempotency-Key": "basket-2", "Accept": "application/json"})
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == "Panier introuvable."


def test_the_point_page_finds_by_name_counts_and_names_exclusions(
        client: TestClient, settings: Settings, world: World, session: Session) -> None:
    """The distribution list finds a household by contact name (accents or not) or by
    reference, counts the baskets collected, names an excluded product and shows the
    basket in 0.1 kg steps or pieces."""
    week = make_week(session, world)
    point = world.ids["point1"]
    household = session.scalars(select(Household).where(Household.reference == "WK-2")).one()
    basket = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week, AllocatedBasket.household_id == household.id)).one()
    basket.collected = True
    session.commit()
    login_as(client, settings, world, "assoc1")
    page = client.get(f"/points/{point}?week={week}").text
    assert re.search(r'data-collected="1">1</span> / 3</strong>', page), page
    cards = re.findall(r'<li class="card household" id="foyer-([^"]+)"', page)
    assert len(cards) == 3
    eggs = session.get(Product, world.ids["eggs"])
    assert eggs is not None
    wk2 = page.split(f'id="foyer-{household.id}"', 1)[1].split("</li>", 1)[0]
    assert f"Sans : {eggs.name}" in wk2
    assert "produit" not in wk2.split("Sans :", 1)[1].split("</p>", 1)[0]
    assert 'data-state="collected"' in wk2
    contents = re.findall(r"(\d+,\d+) kg", wk2)
    assert contents
    assert all(len(c.split(",")[1]) == 1 for c in contents)
    for query, reference in (("francoise n'diaye", "WK-2"), ("Lefèvre", "WK-0"),
                             ("wk-1", "WK-1")):
        found = client.get(f"/points/{point}", params={"week": str(week), "q": query}).text
        assert re.findall(r'<p class="household-head"><strong>([^<]+)</strong>', found) == [
            reference], query
    none = client.get(f"/points/{point}", params={"q": "Personne"}).text
    assert "Aucun foyer ne correspond à « Personne »." in none


def test_the_sheet_links_calls_and_waits(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """Each stop has an https navigation link and a geo: link carrying its coordinates, a
    call link for the point's phone, and the wait when the driver arrives before the window
    opens; a whole-day window reads "toute la journée"."""
    point = session.get(DistributionPoint, world.ids["point1"])
    assert point is not None
    point.contact_phone = "06 39 98 12 34"
    stop = session.get(RoundStop, records["stop_mine"])
    assert stop is not None
    stop.window_start = stop.arrival_at + timedelta(minutes=95)
    stop.window_end = stop.window_start + timedelta(hours=2)
    session.commit()
    login_as(client, settings, world, "volunteer1")
    page = client.get(f"/rounds/{records['driven_mine']}").text
    assert ('href="https://www.google.com/maps/dir/?api=1&amp;destination=43.330000,5.420000"'
            in page)
    assert 'href="geo:43.330000,5.420000?q=43.330000,5.420000(Centre%20social%201)"' in page
    assert 'href="tel:0639981234"' in page
    assert "1\u00a0h\u00a035 : ouvre à" in page
    assert "attente 1\u00a0h\u00a035" in page
    stop.window_start = stop.arrival_at.replace(hour=0, minute=0) - timedelta(hours=1)
    stop.window_end = stop.window_start + timedelta(hours=23, minutes=59)
    session.commit()
    assert "toute la journée" in client.get(f"/rounds/{records['driven_mine']}").text


def test_the_service_worker_and_the_manifest(client: TestClient) -> None:
    """/sw.js is a script for the whole site with its version and the files it caches first
    (each one served); the manifest names the app, its start page and its icons."""
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in worker.text
    precache = json.loads(re.search(r"var PRECACHE = (\[.*?\]);", worker.text).group(1))  # type: ignore[union-attr]
    assert "/static/js/field.js" in precache
    for path in precache:
        assert client.get(path).status_code == 200, path
    manifest = client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert data["start_url"] == "/"
    assert data["display"] == "standalone"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in data["icons"]}
    for icon in data["icons"]:
        assert client.get(icon["src"]).headers["content-type"] == "image/png"
