"""Rounds pages without a browser: open rounds, claim, the sheet, stops done, the week's map."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from baskets.config import Settings
from baskets.rounds.models import Round, RoundStatus, RoundStop, StopStatus
from tests.api.records import make_records
from tests.web.test_pages import assert_french_error, csrf_of, fill, login_as
from tests.world import World


@pytest.fixture
def records(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_records(session, world)


def test_volunteer_claims_from_the_list_and_marks_the_stop(
        client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
        session: Session) -> None:
    """The open round is listed with its claim button; claiming leads to the sheet with a geo:
    link; marking the stop done finishes the round."""
    login_as(client, settings, world, "volunteer1")
    listing = client.get("/rounds")
    assert listing.status_code == 200
    assert f'action="/rounds/{records["round_mine"]}/claim"' in listing.text
    token = csrf_of(client, "/rounds")
    claimed = client.post(f"/rounds/{records['round_mine']}/claim",
                          data={"csrf_token": token})
    assert claimed.status_code == 200
    assert "Tournée prise" in claimed.text
    assert re.search(r'href="geo:43\.330000,5\.420000', claimed.text)
    stop = records["openstop_mine"]
    done = client.post(f"/rounds/{records['round_mine']}/stops/{stop}/done",
                       data={"csrf_token": token})
    assert done.status_code == 200
    assert "Étape 1 faite." in done.text
    session.expire_all()
    assert session.get(RoundStop, stop).status is StopStatus.done  # type: ignore[union-attr]
    assert session.get(Round, records["round_mine"]).status is RoundStatus.done  # type: ignore[union-attr]


def test_problem_needs_a_note(client: TestClient, settings: Settings, world: World,
                              records: dict[str, uuid.UUID], session: Session) -> None:
    """Reporting a problem without a note changes nothing; with one it is kept."""
    login_as(client, settings, world, "volunteer1")
    token = csrf_of(client, "/rounds")
    path = f"/rounds/{records['driven_mine']}/stops/{records['stop_mine']}/problem"
    empty = client.post(path, data={"csrf_token": token})
    assert "Décrivez le problème" in empty.text
    session.expire_all()
    assert session.get(RoundStop, records["stop_mine"]).status is StopStatus.pending  # type: ignore[union-attr]
    client.post(path, data={"csrf_token": token, "note": "Personne sur place"})
    session.expire_all()
    stop = session.get(RoundStop, records["stop_mine"])
    assert stop is not None
    assert (stop.status, stop.note) == (StopStatus.problem, "Personne sur place")


@pytest.mark.parametrize("who", ["volunteer1", "coord1"])
def test_another_programmes_round_is_404(client: TestClient, settings: Settings, world: World,
                                         records: dict[str, uuid.UUID], who: str) -> None:
    """Another team's round sheet is the French 404 page, as a missing one."""
    login_as(client, settings, world, who)
    assert_french_error(client.get(fill("/rounds/{round}", records, "theirs")), 404)
    assert_french_error(client.get(f"/rounds/{uuid.uuid4()}"), 404)


def test_week_page_shows_the_rounds_map(client: TestClient, settings: Settings, world: World,
                                        records: dict[str, uuid.UUID]) -> None:
    """The coordinator's week page lists the rounds and draws one line per round."""
    login_as(client, settings, world, "coord1")
    page = client.get(fill("/weeks/{week}", records))
    assert page.status_code == 200
    assert 'id="carte-tournees"' in page.text
    data = re.search(r'id="carte-tournees".*?<script type="application/json" class="map-data">'
                     r'(.*?)</script>', page.text, re.S)
    assert data is not None
    assert len(json.loads(data.group(1))["routes"]) == 2
    export = client.get(fill("/weeks/{week}/rounds/export?format=csv", records))
    assert export.status_code == 200
    assert export.content.decode("utf-8-sig").count("\r\n") == 3
