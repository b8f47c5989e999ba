"""Data-protection rights: export of one household, erasure, retention; no personal data in logs."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.households.models import Household, HouseholdAudit
from baskets.io.gdpr import ERASED_PREFIX, erase_inactive, months_before
from tests.io.helpers import HEADERS, PEOPLE, csv_bytes, household_rows, upload
from tests.world import World


def _import(client: TestClient, world: World, rows: list[list[str]]) -> list[dict[str, Any]]:
    response = client.post("/api/v1/imports/households", files=upload(csv_bytes(HEADERS, rows)),
                           headers=world.auth("assoc1"))
    assert response.status_code == 200, response.text
    items = client.get("/api/v1/households", headers=world.auth("assoc1")).json()["items"]
    return items  # type: ignore[no-any-return]


def test_export_holds_everything_including_the_audit(client: TestClient, world: World) -> None:
    """The JSON export has the household's fields, its point and neighbourhood, and its audit
    trail (which now also records the export itself); another association gets 404."""
    household = _import(client, world, household_rows(count=1))[0]
    response = client.get(f"/api/v1/households/{household['id']}/export",
                          headers=world.auth("assoc1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["household"]["contact_name"] == PEOPLE[0][0]
    assert body["household"]["address"] == PEOPLE[0][2]
    assert body["neighbourhood"]["name"] == "Frais Vallon"
    assert body["distribution_point"]["name"] == "Centre social 1"
    assert [entry["action"] for entry in body["audit"]] == ["create", "export"]
    assert body["duplicate_fingerprint_stored"] is True
    assert client.get(f"/api/v1/households/{household['id']}/export",
                      headers=world.auth("assoc1b")).status_code == 404


def test_erase_removes_identity_keeps_counts(client: TestClient, session: Session,
                                             world: World) -> None:
    """Erasure blanks name, phone and address, replaces the reference, archives; sizes stay;
    the audit says 'erase' and lists field names only; a second erase changes nothing."""
    household = _import(client, world, household_rows(count=2))[1]
    response = client.post(f"/api/v1/households/{household['id']}/erase",
                           headers=world.auth("assoc1"))
    assert response.status_code == 200, response.text
    erased = response.json()
    assert (erased["contact_name"], erased["phone"], erased["address"]) == (None, None, None)
    assert erased["reference"].startswith(ERASED_PREFIX)
    assert household["reference"] not in erased["reference"]
    assert (erased["adults"], erased["children"], erased["infants"]) == (
        household["adults"], household["children"], household["infants"])
    assert erased["archived_at"] is not None
    erased_id = uuid.UUID(erased["id"])
    audit = session.scalars(select(HouseholdAudit).where(
        HouseholdAudit.household_id == erased_id).order_by(HouseholdAudit.created_at)).all()
    assert [(a.action, a.fields) for a in audit][-1] == (
        "erase", ["address", "contact_name", "phone", "reference"])
    again = client.post(f"/api/v1/households/{household['id']}/erase",
                        headers=world.auth("assoc1")).json()
    assert again["reference"] == erased["reference"]
    assert session.scalar(select(func.count()).select_from(HouseholdAudit).where(
        HouseholdAudit.household_id == erased_id, HouseholdAudit.action == "erase")) == 1


def test_months_before_clamps_to_month_end() -> None:
    """24 months before 29 Feb is 28 Feb; 1 month before 31 March is 28/29 Feb."""
    assert months_before(date(2028, 2, 29), 24) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 24) == date(2024, 1, 15)


def test_retention_erases_households_without_contact(client: TestClient, session: Session,
                                                     world: World) -> None:
    """Households with no contact for more than `months` are erased (dry run: only listed),
    the others are untouched, and a second run finds nothing more."""
    rows = household_rows(count=3)
    today = date.today()
    rows[0][12] = rows[0][13] = (today - timedelta(days=800)).strftime("%d/%m/%Y")
    rows[1][12] = rows[1][13] = (today - timedelta(days=700)).strftime("%d/%m/%Y")
    _import(client, world, rows)
    now = datetime.now(UTC)
    preview = erase_inactive(session, now=now, months=24, dry_run=True)
    mine = [h for h in preview.households if h["organisation_id"] == world.ids["assoc1"]]
    assert len(mine) == 1
    assert session.get(Household, mine[0]["household_id"]).contact_name is not None  # type: ignore[union-attr]
    report = erase_inactive(session, now=now, months=24)
    assert report.as_dict()["erased"] == len(preview.households)
    old = session.get(Household, mine[0]["household_id"])
    assert old is not None
    assert old.contact_name is None
    assert old.adults == 2
    kept = session.scalars(select(Household).where(Household.reference == "IMP-0001")).one()
    assert kept.contact_name is not None
    assert erase_inactive(session, now=now, months=24).households == []
    assert len(erase_inactive(session, now=now, months=12, dry_run=True).households) == 1


def test_no_personal_data_in_logs(client: TestClient, world: World,
                                  caplog: pytest.LogCaptureFixture) -> None:
    """Every log record of a full import, export, GDPR export and erasure, captured at DEBUG
    (SQLAlchemy's engine loggers included), is free of the file's names, phones, addresses."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    rows = household_rows(count=3)
    rows[2][4] = "x"  # one failing import too: its problems must not be logged with values
    client.post("/api/v1/imports/households", files=upload(csv_bytes(HEADERS, rows)),
                headers=world.auth("assoc1"))
    items = _import(client, world, household_rows(count=3))
    client.get("/api/v1/exports/households", params={"format": "xlsx"},
               headers=world.auth("assoc1"))
    client.get("/api/v1/households/duplicates", headers=world.auth("assoc1"))
    for item in items:
        client.get(f"/api/v1/households/{item['id']}/export", headers=world.auth("assoc1"))
        client.post(f"/api/v1/households/{item['id']}/erase", headers=world.auth("assoc1"))
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert caplog.records, "nothing was captured: the test would prove nothing"
    for name, phone, address in PEOPLE:
        for secret in (name, phone, address, name.split()[0], phone.replace(" ", "")):
            assert secret not in text, secret


def test_erasure_purges_the_idempotent_replay(client: TestClient, session: Session,
                                              world: World) -> None:
    """Replaying the creation's Idempotency-Key after an erasure must not give back the
    erased name, phone and address: the stored answer went with the erasure."""
    from baskets.common.models import IdempotencyRecord
    from tests.api.test_behaviour import household_body

    headers = {**world.auth("assoc1"), "Idempotency-Key": "create-samia-1"}
    body = household_body(world)
    created = client.post("/api/v1/households", json=body, headers=headers)
    assert created.status_code == 201, created.text
    erased = client.post(f"/api/v1/households/{created.json()['id']}/erase",
                         headers=world.auth("assoc1"))
    assert erased.status_code == 200
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)
                          .where(IdempotencyRecord.key == "create-samia-1")) == 0
    # The key is free again: the same request is a new create (its own data, sent again),
    # never the erased household's stored answer.
    replay = client.post("/api/v1/households", json=body, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") is None
    assert replay.json()["id"] != created.json()["id"]


def test_idempotency_records_expire(client: TestClient, session: Session, world: World,
                                    settings: Any) -> None:
    """A key older than BASKETS_IDEMPOTENCY_TTL_HOURS is not replayed (a new create runs),
    and retention purges the stale records."""
    from baskets.common.models import IdempotencyRecord
    from tests.api.test_behaviour import household_body

    headers = {**world.auth("assoc1"), "Idempotency-Key": "old-key"}
    first = client.post("/api/v1/households", json=household_body(world), headers=headers)
    assert first.status_code == 201
    assert client.post("/api/v1/households", json=household_body(world),
                       headers=headers).headers.get("Idempotent-Replayed") == "true"
    record = session.scalars(select(IdempotencyRecord)
                             .where(IdempotencyRecord.key == "old-key")).one()
    record.created_at = datetime.now(UTC) - timedelta(hours=settings.idempotency_ttl_hours + 1)
    session.commit()
    again = client.post("/api/v1/households",
                        json=household_body(world, reference="AMP-FV-0101"), headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") is None
    assert again.json()["id"] != first.json()["id"]
    stale = session.scalars(select(IdempotencyRecord)
                            .where(IdempotencyRecord.key == "old-key")).one()
    stale.created_at = datetime.now(UTC) - timedelta(hours=settings.idempotency_ttl_hours + 1)
    session.commit()
    report = erase_inactive(session, now=datetime.now(UTC), months=24,
                            idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours))
    assert report.idempotency_purged >= 1
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)
                          .where(IdempotencyRecord.key == "old-key")) == 0
