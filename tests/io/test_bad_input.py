"""Bad input to every import (households, lots, volunteers), through the API, the page and
the command line: an empty file, wrong columns, binary garbage, a 50 MB file and formulas in
cells each get a clear French message and write nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from baskets.accounts.models import User
from baskets.households.models import Household
from baskets.supply.models import Farmer, SupplyLot
from baskets.weeks.models import Week
from tests.io import test_cli
from tests.io.helpers import HEADERS, csv_bytes, household_rows, upload, xlsx_bytes
from tests.io.test_import_lots_volunteers import LOT_HEADERS, MONDAY, VOL_HEADERS, _vol_rows
from tests.world import World

FIFTY_MB = 50 * 1024 * 1024
cli_db = test_cli.cli_db  # the command line's database fixture


def _lot_rows(leek: str) -> list[list[Any]]:
    day = MONDAY.strftime("%d/%m/%Y")
    return [["Ferme des Paluds", leek, "120,5", "", day, f"{day} 07:00", f"{day} 10:00", "1,8"]]


@pytest.fixture
def kinds(session: Session, world: World) -> dict[str, dict[str, Any]]:
    """For each import: its URL, who sends it, a valid header and rows, and a counter."""
    week = Week(organisation_id=world.ids["team1"], starts_on=MONDAY)
    session.add_all([week, Farmer(organisation_id=world.ids["team1"], name="Ferme des Paluds",
                                  siret="12345678900017", address="x", lat=43.8, lon=4.8)])
    session.commit()
    from baskets.supply.models import Product

    leek = session.get(Product, world.ids["leek"])
    assert leek is not None

    def count(model: Any, *where: Any) -> Callable[[], int]:
        return lambda: session.scalar(select(func.count()).select_from(model).where(*where)) \
            or 0

    return {
        "households": {"url": "/api/v1/imports/households", "who": "assoc1", "params": {},
                       "header": HEADERS, "rows": household_rows(count=2), "text_column": 1,
                       "count": count(Household,
                                      Household.organisation_id == world.ids["assoc1"])},
        "lots": {"url": "/api/v1/imports/lots", "who": "coord1",
                 "params": {"week_id": str(week.id)}, "header": LOT_HEADERS,
                 "rows": _lot_rows(leek.name), "text_column": 0,
                 "count": count(SupplyLot, SupplyLot.week_id == week.id)},
        "volunteers": {"url": "/api/v1/imports/volunteers", "who": "coord1", "params": {},
                       "header": VOL_HEADERS, "rows": _vol_rows(), "text_column": 1,
                       "count": count(User, User.organisation_id == world.ids["team1"])},
    }


def _post(client: TestClient, world: World, kind: dict[str, Any], data: bytes,
          name: str = "f.csv") -> Any:
    return client.post(kind["url"], params=kind["params"], files=upload(data, name),
                       headers=world.auth(kind["who"]))


CASES: dict[str, tuple[Callable[[dict[str, Any]], tuple[bytes, str]], str]] = {
    "empty": (lambda k: (b"", "f.csv"), "vide"),
    "header only": (lambda k: (csv_bytes(k["header"], []), "f.csv"), "aucune ligne"),
    "wrong columns": (lambda k: (csv_bytes(["Nom complet", "Revenu", "Couleur"],
                                           [["a", "b", "c"]]), "f.csv"), "Colonnes attendues"),
    "binary garbage": (lambda k: (os.urandom(4096), "f.csv"), ""),
    "garbage named xlsx": (lambda k: (b"PK\x03\x04" + os.urandom(2048), "f.xlsx"),
                           "endommagé"),
    "formula in a CSV cell": (lambda k: (csv_bytes(k["header"], _formula(k)), "f.csv"),
                              "formule"),
    "formula in an XLSX cell": (lambda k: (xlsx_bytes(k["header"], _formula(k)), "f.xlsx"),
                                "formule"),
}


def _formula(kind: dict[str, Any]) -> list[list[Any]]:
    rows = [list(row) for row in kind["rows"]]
    rows[0][kind["text_column"]] = "=HYPERLINK(\"http://evil.example\";\"clic\")"
    return rows


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["households", "lots", "volunteers"])
def test_bad_files_are_refused_clearly_and_write_nothing(
    client: TestClient, world: World, kinds: dict[str, dict[str, Any]], name: str, case: str
) -> None:
    """Each bad file answers 422 with a French message (row and column when it is a cell),
    and the import writes nothing, not even the file's valid rows."""
    kind = kinds[name]
    before = kind["count"]()
    make, needle = CASES[case]
    data, filename = make(kind)
    response = _post(client, world, kind, data, filename)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "rien n'a été enregistré" in error["message"]
    messages = " ".join(d["message"] for d in error["details"])
    assert messages.strip()
    assert needle.lower() in messages.lower(), messages
    if case.startswith("formula"):
        assert [d["row"] for d in error["details"]] == [2]
    assert kind["count"]() == before


@pytest.mark.parametrize("name", ["households", "lots", "volunteers"])
def test_a_50_mb_file_is_refused_before_reading(client: TestClient, world: World,
                                                kinds: dict[str, dict[str, Any]],
                                                name: str) -> None:
    """A 50 MB file answers 413 with the limit in French, and nothing is written."""
    kind = kinds[name]
    before = kind["count"]()
    body = csv_bytes(kind["header"], kind["rows"])
    data = body + b"x" * (FIFTY_MB - len(body))
    response = _post(client, world, kind, data)
    assert response.status_code == 413
    assert "Fichier trop volumineux (au plus 20 Mo)" in response.json()["error"]["message"]
    assert kind["count"]() == before


def test_a_50_mb_file_on_the_page(
    client: TestClient, settings: Any, world: World, kinds: dict[str, dict[str, Any]],
    tmp_path: Path
) -> None:
    """The upload page answers a French 413 page and writes nothing."""
    from tests.web.test_pages import csrf_of, login_as

    kind = kinds["households"]
    data = b"x" * FIFTY_MB
    login_as(client, settings, world, "assoc1")
    page = client.post("/households/import",
                       data={"csrf_token": csrf_of(client, "/households/import"),
                             "action": "preview"},
                       files={"file": ("big.csv", data, "text/csv")})
    assert page.status_code == 413
    assert "Fichier trop volumineux" in page.text
    assert kind["count"]() == 0


def test_a_50_mb_file_on_the_command_line(cli_db: str, tmp_path: Path) -> None:
    """`baskets import` exits 2 with the limit in French and writes nothing."""
    from baskets.cli import app
    from tests.io.test_cli import _households

    big = tmp_path / "big.csv"
    body = csv_bytes(HEADERS, household_rows(count=2))
    big.write_bytes(body + b"x" * (FIFTY_MB - len(body)))
    result = CliRunner().invoke(app, ["import", "households", str(big), "--organisation",
                                      "Org assoc1"])
    assert result.exit_code == 2, result.output
    assert "volumineux" in result.output
    assert _households(cli_db) == 0


def _with_sheet_xml(workbook: bytes, rewrite: Callable[[bytes], bytes]) -> bytes:
    """The workbook with its first sheet's XML rewritten."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = rewrite(data)
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _million_rows(xml: bytes) -> bytes:
    rows = b"".join(b'<row r="%d"/>' % n for n in range(10, 1_000_010))
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


XXE = (b'<?xml version="1.0"?><!DOCTYPE ws [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE ws [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
                     for i in range(9)) + b"]>")


def _with_prolog(prolog: bytes, entity: bytes) -> Callable[[bytes], bytes]:
    def rewrite(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[-1]
        return prolog + body.replace(b"<v>", b"<v>" + entity, 1)

    return rewrite


@pytest.mark.parametrize("case", ["million_rows", "xxe", "billion_laughs"])
def test_hostile_workbooks_are_refused_with_422(client: TestClient, world: World,
                                                session: Session, case: str) -> None:
    """A small XLSX holding a million empty rows is refused before parsing (it took 100 s);
    XXE and "billion laughs" workbooks answer 422, not 500; nothing is written."""
    import time

    plain = xlsx_bytes(HEADERS, household_rows(count=2))
    workbook = {
        "million_rows": lambda: _with_sheet_xml(plain, _million_rows),
        "xxe": lambda: _with_sheet_xml(plain, _with_prolog(XXE, b"&xxe;")),
        "billion_laughs": lambda: _with_sheet_xml(plain, _with_prolog(LAUGHS, b"&j;")),
    }[case]()
    before = session.scalar(select(func.count()).select_from(Household))
    start = time.monotonic()
    response = client.post("/api/v1/imports/households", headers=world.auth("assoc1"),
                           files=upload(workbook, "foyers.xlsx"))
    assert response.status_code == 422, response.text
    assert time.monotonic() - start < 10
    message = response.json()["error"]["details"][0]["message"]
    assert ("lignes" in message) if case == "million_rows" else ("entités" in message)
    assert session.scalar(select(func.count()).select_from(Household)) == before


def test_chunked_bodies_are_capped_while_streaming(client: TestClient) -> None:
    """A body sent in chunks, without Content-Length, stops at BASKETS_MAX_BODY_BYTES with
    413 instead of being read whole (200 MB to the anonymous sign-up took 1 GB of memory)."""
    def body() -> Any:
        for _ in range(64):  # 4 MB, twice the limit
            yield b"x" * 65_536

    response = client.post("/api/v1/volunteers/signup", content=body(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text[:200]
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_multipart_is_capped_too(client: TestClient, world: World) -> None:
    """The same for a multipart upload sent in chunks to the import page."""
    def body() -> Any:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="f.csv"\r\n\r\n'
        for _ in range(340):  # 22 MB, past the upload limit
            yield b"x" * 65_536

    response = client.post("/households/import", content=body(),
                           headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
