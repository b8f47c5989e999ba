"""No personal data in the logs: every record of a full import and of a full demo week
(fixtures, allocation, baskets, packing lists, collection, exports, report, pages), captured at
DEBUG on every logger (SQLAlchemy's engine, pool and ORM, the uvicorn-style access log, the
app's own), holds no name, address or phone number of the data."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, Role, User
from baskets.accounts.security import issue_token
from baskets.allocation.models import AllocatedBasket
from baskets.config import Settings
from baskets.demo.loader import load_demo
from baskets.households.models import Household
from baskets.web.core import SESSION_COOKIE
from baskets.weeks.models import Week
from tests.io.helpers import HEADERS, PEOPLE, csv_bytes, household_rows, upload
from tests.world import World

LOGGERS = ["", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool",
           "sqlalchemy.orm", "uvicorn", "uvicorn.access", "uvicorn.error", "baskets",
           "fastapi", "httpx", "celery"]
# The demo's phones are in the fictitious range 06 39 98 xx xx, in any spelling.
DEMO_PHONE = re.compile(r"(?:0|\+33\s?)6[\s.]?39[\s.]?98")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """DEBUG on every logger, set before the test's connection opens (SQLAlchemy decides
    whether to echo when a connection is made)."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def _access_log(response: httpx.Response) -> None:
    """What uvicorn's access log writes for each request: client, method, full path, status."""
    request = response.request
    path = request.url.raw_path.decode()
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000",
                                             request.method, path, "1.1", response.status_code)


def _token(settings: Settings, user: User) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(user.id, secret=settings.secret_key,
                                                     ttl_minutes=30)}


def _user(session: Session, role: Role, territory: str = "AMP") -> User:
    from baskets.territory.models import Territory

    return session.scalars(
        select(User).join(Organisation, Organisation.id == User.organisation_id)
        .join(Territory, Territory.id == Organisation.territory_id)
        .where(User.role == role, Territory.code == territory).order_by(User.email)).first() \
        or pytest.fail(f"no demo {role}")


def test_no_personal_data_in_logs_of_an_import_and_a_demo_week(
    debug_logs: pytest.LogCaptureFixture, session: Session, client: TestClient,
    world: World, settings: Settings
) -> None:
    """Import (with a failing row too), then the demo week end to end through the API and the
    pages: no captured record names a person, an address or a phone of the data."""
    client.event_hooks = {"request": [], "response": [_access_log]}
    # A full import: a refused file (its problems name cells, never values), then a good one.
    rows = household_rows(count=3)
    bad = [list(row) for row in rows]
    bad[1][4] = "x"
    client.post("/api/v1/imports/households", files=upload(csv_bytes(HEADERS, bad)),
                headers=world.auth("assoc1"))
    client.post("/api/v1/imports/households", params={"dry_run": True},
                files=upload(csv_bytes(HEADERS, rows)), headers=world.auth("assoc1"))
    imported = client.post("/api/v1/imports/households", files=upload(csv_bytes(HEADERS, rows)),
                           headers=world.auth("assoc1"))
    assert imported.status_code == 200, imported.text
    client.get("/api/v1/households", params={"q": "IMP"}, headers=world.auth("assoc1"))
    client.get("/api/v1/exports/households", headers=world.auth("assoc1"))
    # The demo week: fixtures, allocation, what each front door reads and writes.
    load_demo(session)
    session.commit()
    coordinator = _user(session, Role.coordinator)
    association = _user(session, Role.association)
    week = session.scalars(select(Week).where(
        Week.organisation_id == coordinator.organisation_id)).one()
    allocated = client.post(f"/api/v1/weeks/{week.id}/allocation",
                            json={"time_limit": 2, "seed": 1},
                            headers=_token(settings, coordinator))
    assert allocated.status_code == 202, allocated.text
    mine = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week.id,
        AllocatedBasket.organisation_id == association.organisation_id)).all()
    assert mine, "the demo association has no basket: the test would prove little"
    point = mine[0].distribution_point_id
    for path, who in ((f"/weeks/{week.id}/allocation", coordinator),
                      (f"/weeks/{week.id}/report", coordinator),
                      (f"/weeks/{week.id}/exports/baskets", coordinator),
                      (f"/weeks/{week.id}/baskets", association),
                      (f"/weeks/{week.id}/packing-lists/{point}", association),
                      (f"/weeks/{week.id}/exports/baskets", association)):
        assert client.get(f"/api/v1{path}", headers=_token(settings, who)).status_code == 200
    client.post(f"/api/v1/baskets/{mine[0].id}/collected", json={"collected": True},
                headers=_token(settings, association))
    client.post(f"/api/v1/weeks/{week.id}/publish", headers=_token(settings, coordinator))
    for user, pages in ((association, [f"/points/{point}", "/households"]),
                        (coordinator, [f"/weeks/{week.id}", f"/weeks/{week.id}/report"])):
        client.cookies.set(SESSION_COOKIE, issue_token(user.id, secret=settings.secret_key,
                                                       ttl_minutes=30))
        for page in pages:
            assert client.get(page).status_code == 200, page
    # Every identifying value held, the file's and the demo's.
    secrets: set[str] = set()
    for name, phone, address in PEOPLE:
        secrets |= {name, phone, address, phone.replace(" ", ""), name.split()[-1]}
    for contact, phone, address in session.execute(
            select(Household.contact_name, Household.phone, Household.address)):
        secrets |= {value for value in (contact, phone, address) if value and len(value) > 5}
    records = debug_logs.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), \
        "SQL was not captured: the test would prove nothing"
    assert any(r.name == "uvicorn.access" for r in records)
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
                     for r in records)
    assert not DEMO_PHONE.search(text)
    words = set(re.findall(r"[\w'’-]+", text))
    found = sorted(s for s in secrets if (s in words or " " in s) and s in text)
    assert found == [], found[:5]
    assert len(secrets) > 1000  # the demo's households were read
