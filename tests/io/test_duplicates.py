"""Possible duplicates across associations: flagged to both and to coordinators, leaking nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.io.duplicates import fingerprint, normalise_name, normalise_phone
from baskets.io.models import HouseholdFingerprint
from tests.io.helpers import HEADERS, csv_bytes, household_rows, upload
from tests.world import World


def test_normalisation_folds_spelling_and_phone_forms() -> None:
    """Accents, case, word order and +33 / spaces / dots give the same keyed hash."""
    assert normalise_name("Zoé  LEFÈVRE-Haddad") == normalise_name("haddad lefevre zoe")
    assert normalise_phone("+33 6 11 22 33 44") == normalise_phone("06.11.22.33.44")
    one = fingerprint("k", "Zoé Lefèvre-Haddad", "+33 6 11 22 33 44")
    assert one == fingerprint("k", "HADDAD Lefevre Zoe", "0611223344")
    assert one != fingerprint("other-key", "Zoé Lefèvre-Haddad", "0611223344")
    assert fingerprint("k", None, "0611223344") is None
    assert one is not None
    assert "zoe" not in one
    assert "0611" not in one


def _import(client: TestClient, world: World, who: str, rows: list[list[str]]) -> dict[str, str]:
    response = client.post("/api/v1/imports/households", files=upload(csv_bytes(HEADERS, rows)),
                           headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_twins_are_flagged_to_both_associations_without_their_data(
        client: TestClient, session: Session, world: World) -> None:
    """assoc1 and assoc1b follow the same person (spelt differently): each sees only its own
    reference; the coordinator sees one shared household for the pair; assoc2 sees nothing."""
    mine = household_rows("A1", 2)
    _import(client, world, "assoc1", mine)
    theirs = household_rows("B1", 1, point="Point 1b")
    theirs[0][1] = "LEFEVRE-HADDAD Zoe"
    theirs[0][2] = "+33611223344"
    theirs[0][3] = "ailleurs"
    report = _import(client, world, "assoc1b", theirs)
    # The import itself warns the second association, with its own reference only.
    assert report["possible_duplicates"] == ["B1-0000"]

    flagged = client.get("/api/v1/households/duplicates", headers=world.auth("assoc1")).json()
    assert list(flagged["items"]) == [
        {"id": flagged["items"][0]["id"], "reference": "A1-0000"}]
    other = client.get("/api/v1/households/duplicates", headers=world.auth("assoc1b")).json()
    assert [item["reference"] for item in other["items"]] == ["B1-0000"]
    text = flagged.__repr__() + other.__repr__()
    assert "B1-0000" not in repr(flagged)
    assert "A1-0000" not in repr(other)
    assert "Lef" not in text
    assert "LEF" not in text
    assert "ailleurs" not in text
    assert client.get("/api/v1/households/duplicates",
                      headers=world.auth("assoc2")).json()["items"] == []

    pairs = client.get("/api/v1/coordination/households/duplicates",
                       headers=world.auth("coord1")).json()
    assert len(pairs) == 1
    assert {pairs[0]["first"]["id"], pairs[0]["second"]["id"]} == {
        str(world.ids["assoc1"]), str(world.ids["assoc1b"])}
    assert pairs[0]["households"] == 1
    assert client.get("/api/v1/coordination/households/duplicates",
                      headers=world.auth("coord2")).json() == []
    stored = session.scalars(select(HouseholdFingerprint.digest)).all()
    assert all(d is None or len(d) == 64 for d in stored)


def test_households_created_through_the_api_are_fingerprinted_lazily(
        client: TestClient, world: World) -> None:
    """A household entered by hand (not imported) is compared when duplicates are asked."""
    _import(client, world, "assoc1", household_rows("A1", 1))
    body = {"reference": "MANUAL-1", "contact_name": "zoe lefevre haddad",
            "phone": "06 11 22 33 44", "adults": 1, "neighbourhood_id": str(world.ids["n1"]),
            "distribution_point_id": str(world.ids["point1b"]),
            "referral_reason": "other", "valid_until": "2099-01-01",
            "consent_date": "2020-01-01", "last_contact_date": "2020-01-01"}
    created = client.post("/api/v1/households", json=body, headers=world.auth("assoc1b"))
    assert created.status_code == 201, created.text
    flagged = client.get("/api/v1/households/duplicates", headers=world.auth("assoc1b")).json()
    assert [item["reference"] for item in flagged["items"]] == ["MANUAL-1"]
    # Erasing one twin withdraws the flag on the other side.
    client.post(f"/api/v1/households/{created.json()['id']}/erase",
                headers=world.auth("assoc1b"))
    assert client.get("/api/v1/households/duplicates",
                      headers=world.auth("assoc1")).json()["items"] == []


def test_duplicate_lookups_are_audited_and_rate_limited(client: TestClient, session: Session,
                                                        world: World, settings: Any) -> None:
    """Each lookup (the list, a household import) leaves an audit row (who, counts; never
    which households); past the hourly limit the association gets 429 with Retry-After."""
    from sqlalchemy import func, select

    from baskets.io.models import DuplicateLookup

    def lookups() -> int:
        return session.scalar(select(func.count()).select_from(DuplicateLookup)
                              .where(DuplicateLookup.user_id == world.ids["user_assoc1"])) or 0

    assert client.get("/api/v1/households/duplicates",
                      headers=world.auth("assoc1")).status_code == 200
    assert lookups() == 1
    preview = client.post("/api/v1/imports/households?dry_run=true",
                          files=upload(csv_bytes(HEADERS, household_rows(count=2))),
                          headers=world.auth("assoc1"))
    assert preview.status_code == 200, preview.text
    assert lookups() == 2
    for _ in range(settings.duplicate_checks_per_hour - 2):
        client.get("/api/v1/households/duplicates", headers=world.auth("assoc1"))
    refused = client.get("/api/v1/households/duplicates", headers=world.auth("assoc1"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.post("/api/v1/imports/households?dry_run=true",
                       files=upload(csv_bytes(HEADERS, household_rows(count=1))),
                       headers=world.auth("assoc1")).status_code == 429
