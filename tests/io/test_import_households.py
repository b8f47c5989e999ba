"""Households import through the API and the service: variants, errors, dry run, idempotence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.config import Settings
from baskets.households.models import Household, HouseholdAudit
from baskets.io.imports import ImportFailed, run_import
from tests.io.helpers import (
    HEADERS,
    TODAY,
    actor,
    csv_bytes,
    fr,
    household_rows,
    upload,
    xlsx_bytes,
)
from tests.world import World

URL = "/api/v1/imports/households"


def _count(session: Session, world: World) -> int:
    return session.scalar(select(func.count()).select_from(Household)
                          .where(Household.organisation_id == world.ids["assoc1"])) or 0


def _post(client: TestClient, world: World, data: bytes, *, dry_run: bool = False,
          name: str = "foyers.csv", lang: str | None = None) -> Any:
    headers = world.auth("assoc1")
    if lang:
        headers["Accept-Language"] = lang
    return client.post(URL, params={"dry_run": dry_run}, files=upload(data, name),
                       headers=headers)


VARIANTS = {
    "utf8-semicolon": lambda rows: csv_bytes(HEADERS, rows),
    "utf8-comma": lambda rows: csv_bytes(HEADERS, rows, sep=","),
    "utf8-bom": lambda rows: csv_bytes(HEADERS, rows, bom=True),
    "cp1252-semicolon": lambda rows: csv_bytes(HEADERS, rows, encoding="cp1252"),
    "cp1252-comma": lambda rows: csv_bytes(HEADERS, rows, sep=",", encoding="cp1252"),
    "tab": lambda rows: csv_bytes(HEADERS, rows, sep="\t"),
    "xlsx": lambda rows: xlsx_bytes(HEADERS, rows),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_encoding_separator_and_format_imports_the_same(
        client: TestClient, session: Session, world: World, variant: str) -> None:
    """Each CSV encoding/separator/BOM variant and XLSX creates the same three households."""
    response = _post(client, world, VARIANTS[variant](household_rows()),
                     name="f.xlsx" if variant == "xlsx" else "f.csv")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["problems"]) == (3, 0, 0, [])
    stored = session.scalars(select(Household).where(Household.reference == "IMP-0000")).one()
    assert stored.contact_name == "Zoé Lefèvre-Haddad"
    assert stored.address == "7 impasse des Cèdres, 13015 Marseille"
    assert stored.last_contact_date == TODAY - timedelta(days=3)
    second = session.scalars(select(Household).where(Household.reference == "IMP-0001")).one()
    assert (second.children, second.excluded_categories) == (1, ["dairy"])
    assert second.referral_reason.value == "single_parent"


def test_header_variants_and_real_xlsx_dates_are_understood(
        client: TestClient, session: Session, world: World) -> None:
    """Variant headers (case, accents, abbreviations) map to fields; XLSX date cells work."""
    from datetime import datetime

    header = ["REF", "nom", "tél.", "adresse postale", "Nb adultes", "nombre d'enfants",
              "bébés", "QPV", "lieu de distribution", "MOTIF D'ORIENTATION", "fin de validité",
              "consentement", "date du dernier contact"]
    row = ["VAR-1", "Awa Diallo", "0612345678", "", 3, 2, 1, "Frais Vallon", "centre SOCIAL 1",
           "Perte d’emploi".replace("’", "'"), datetime(TODAY.year + 1, 1, 31),
           datetime.combine(TODAY, datetime.min.time()), fr(TODAY)]
    response = _post(client, world, xlsx_bytes(header, [row]), name="v.xlsx")
    assert response.status_code == 200, response.text
    household = session.scalars(select(Household).where(Household.reference == "VAR-1")).one()
    assert (household.adults, household.children, household.infants) == (3, 2, 1)
    assert household.valid_until.isoformat() == f"{TODAY.year + 1}-01-31"
    assert household.referral_reason.value == "job_loss"


def test_dry_run_counts_and_writes_nothing(client: TestClient, session: Session,
                                           world: World) -> None:
    """A dry run previews the counts and writes no household and no audit row."""
    audits = session.scalar(select(func.count()).select_from(HouseholdAudit)) or 0
    response = _post(client, world, csv_bytes(HEADERS, household_rows()), dry_run=True)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    assert response.json()["written"] is False
    assert _count(session, world) == 0
    assert session.scalar(select(func.count()).select_from(HouseholdAudit)) == audits


def test_reimport_is_idempotent_and_changes_are_updates(client: TestClient, session: Session,
                                                         world: World) -> None:
    """The same file again changes nothing; a changed cell is one audited update."""
    data = csv_bytes(HEADERS, household_rows())
    assert _post(client, world, data).json()["created"] == 3
    again = _post(client, world, data).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    rows = household_rows()
    rows[1][4] = "4"
    changed = _post(client, world, csv_bytes(HEADERS, rows)).json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    household = session.scalars(select(Household).where(Household.reference == "IMP-0001")).one()
    assert household.adults == 4
    actions = session.scalars(select(HouseholdAudit.action)
                              .where(HouseholdAudit.household_id == household.id)).all()
    assert sorted(actions) == ["create", "update"]
    fields = session.scalars(select(HouseholdAudit.fields).where(
        HouseholdAudit.household_id == household.id, HouseholdAudit.action == "update")).one()
    assert fields == ["adults"]


def test_every_problem_is_listed_with_row_and_column(client: TestClient, session: Session,
                                                      world: World) -> None:
    """One bad cell per kind of error: each comes back with its row, column and French text,
    and nothing at all is written."""
    rows = household_rows(count=9)
    rows[0][4] = "deux"  # row 2: not a number
    rows[1][11] = "31/02/2027"  # row 3: date that does not exist
    rows[2][7] = "Atlantis"  # row 4: unknown neighbourhood
    rows[3][8] = "Centre 2"  # row 5: another association's point
    rows[4][10] = "riche"  # row 6: unknown reason
    rows[5][0] = "IMP-0000"  # row 7: reference twice in the file
    rows[6][2] = "=HYPERLINK(\"http://x\")"  # row 8: formula
    rows[7][12] = fr(TODAY.replace(year=TODAY.year + 1))  # row 9: consent in the future
    rows[8][4] = "0"  # row 10: schema bound (adults >= 1)
    response = _post(client, world, csv_bytes(HEADERS, rows))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    where = [(d["row"], d["column"]) for d in error["details"]]
    assert where == [(2, "Adultes"), (3, "Valide jusqu'au"), (4, "Quartier"),
                     (5, "Point de distribution"), (6, "Motif"), (7, "Référence"),
                     (8, "Téléphone"), (9, "Date de consentement"), (10, "Adultes")]
    assert "formule" in error["details"][6]["message"].lower()
    assert "futur" in error["details"][7]["message"]
    assert _count(session, world) == 0


def test_problems_in_english_when_asked(client: TestClient, world: World) -> None:
    """Accept-Language: en gives the English messages for the same problems."""
    rows = household_rows(count=1)
    rows[0][4] = "deux"
    response = _post(client, world, csv_bytes(HEADERS, rows), lang="en")
    detail = response.json()["error"]["details"][0]
    assert detail["message"].startswith("Number expected")
    assert response.json()["error"]["message"].startswith("1 problem")


def test_one_bad_row_means_nothing_written(client: TestClient, session: Session,
                                           world: World) -> None:
    """All or nothing: 49 good rows and one bad one write no household."""
    rows = household_rows(count=50)
    rows[-1][7] = "Nowhere"
    response = _post(client, world, csv_bytes(HEADERS, rows))
    assert response.status_code == 422
    assert [d["row"] for d in response.json()["error"]["details"]] == [51]
    assert _count(session, world) == 0


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "vide"),
    (b"   \r\n\r\n", "vide"),
    ("Référence;Adultes\r\n".encode(), "aucune ligne"),
    (bytes(range(256)) * 20, "binaire"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    (b"PK\x03\x04garbage-not-a-zip", "endommagé"),
    (b"R\xe9f\xe9rence;Adultes\r\nA;1;2;3;4\r\n", "colonnes"),
])
def test_unreadable_files_get_a_clear_message(client: TestClient, session: Session,
                                               world: World, data: bytes, needle: str) -> None:
    """Empty, header-only, binary, legacy .xls, broken XLSX or ragged CSV: a clear 422."""
    response = _post(client, world, data)
    assert response.status_code == 422, response.text
    assert needle in response.json()["error"]["details"][0]["message"]
    assert _count(session, world) == 0


def test_wrong_columns_are_named(client: TestClient, world: World) -> None:
    """Unknown and missing required columns are each reported on row 1."""
    header = ["Référence", "Adultes", "Revenu", "Quartier", "Point de distribution", "Motif",
              "Valide jusqu'au", "Date de consentement"]
    response = _post(client, world, csv_bytes(header, [["A", "1", "900", "", "", "", "", ""]]))
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["row"], d["column"]) for d in details] == [
        (1, "Revenu"), (1, "Dernier contact"), (1, None)]
    assert details[-1]["message"].startswith("Colonnes attendues : Référence, Nom du contact")


def test_a_file_of_another_kind_is_recognised(client: TestClient, world: World) -> None:
    """A lots file sent as households says which import it looks like."""
    header = ["Producteur", "Produit", "Quantité (kg)", "Date de récolte"]
    response = _post(client, world, csv_bytes(header, [["Ferme", "Poireaux", "1", "01/01/2026"]]))
    assert response.status_code == 422
    assert "ressemble à un import « lots »" in response.json()["error"]["details"][-1]["message"]


def test_oversized_file_is_refused(client: TestClient, app: Any, world: World,
                                   session: Session) -> None:
    """A file above the size setting answers 413 and writes nothing."""
    app.state.settings = Settings(secret_key="test-secret-key-0123456789-abcdef",
                                  import_max_bytes=1_000)
    data = csv_bytes(HEADERS, household_rows(count=40))
    assert len(data) > 1_000
    response = _post(client, world, data)
    assert response.status_code == 413
    assert "volumineux" in response.json()["error"]["message"]
    assert _count(session, world) == 0


def test_formula_cells_in_xlsx_are_refused(client: TestClient, world: World) -> None:
    """An XLSX cell holding a formula is reported, never evaluated."""
    rows: list[list[Any]] = [list(row) for row in household_rows(count=1)]
    rows[0][4] = "=1+1"
    response = _post(client, world, xlsx_bytes(HEADERS, rows), name="f.xlsx")
    assert response.status_code == 422
    assert [(d["row"], d["column"]) for d in response.json()["error"]["details"]] == [
        (2, "Adultes")]


def test_coordinator_may_not_import_households(client: TestClient, world: World) -> None:
    """Households are imported by their association only."""
    response = client.post(URL, files=upload(csv_bytes(HEADERS, household_rows())),
                           headers=world.auth("coord1"))
    assert response.status_code == 403


def test_bulk_path_writes_what_the_service_writes(session: Session, world: World,
                                                  settings: Settings) -> None:
    """Above the bulk threshold rows and audit entries equal those of the per-row service."""
    me = actor(session, world, "assoc1")
    one = run_import(session, actor=me, kind="households", settings=settings, dry_run=False,
                     data=csv_bytes(HEADERS, household_rows("ROW", 4)))
    bulk = run_import(session, actor=me, kind="households", settings=settings, dry_run=False,
                      data=csv_bytes(HEADERS, household_rows("BLK", 4)), bulk_threshold=0)
    assert one.created == bulk.created == 4
    columns = [c for c in Household.__table__.columns.keys()
               if c not in ("id", "created_at", "updated_at", "reference")]

    def snapshot(prefix: str) -> list[Any]:
        households = session.scalars(select(Household).where(
            Household.reference.like(f"{prefix}-%")).order_by(Household.reference)).all()
        audits = [session.scalars(select(HouseholdAudit.fields).where(
            HouseholdAudit.household_id == h.id, HouseholdAudit.action == "create")).one()
            for h in households]
        return [[getattr(h, c) for c in columns] for h in households] + audits

    assert snapshot("ROW") == snapshot("BLK")


def test_service_raises_on_commit_with_problems(session: Session, world: World,
                                                settings: Settings) -> None:
    """run_import refuses to commit a file with problems (the caller rolls back)."""
    rows = household_rows(count=2)
    rows[1][7] = "Atlantis"
    with pytest.raises(ImportFailed) as caught:
        run_import(session, actor=actor(session, world, "assoc1"), kind="households",
                   settings=settings, dry_run=False, data=csv_bytes(HEADERS, rows))
    assert [(p.row, p.column) for p in caught.value.report.problems] == [(3, "Quartier")]
