"""Upload pages: a file is checked first (every problem by row, column and French message,
nothing written), then imported whole with the commit button; templates download."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.config import Settings
from baskets.households.models import Household
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.weeks.models import Week
from tests.io.helpers import HEADERS, csv_bytes, household_rows, xlsx_bytes
from tests.io.test_import_lots_volunteers import LOT_HEADERS, MONDAY
from tests.web.test_pages import assert_french_error, csrf_of, login_as
from tests.world import World


def _count(session: Session, world: World) -> int:
    return session.scalar(select(func.count()).select_from(Household).where(
        Household.organisation_id == world.ids["assoc1"])) or 0


def _send(client: TestClient, path: str, data: bytes, name: str = "foyers.csv",
          **fields: str) -> Any:
    token = csrf_of(client, path)
    return client.post(path, data={"csrf_token": token, "action": "preview", **fields},
                       files={"file": (name, data, "application/octet-stream")})


def test_households_preview_lists_every_problem_and_writes_nothing(
    client: TestClient, settings: Settings, world: World, session: Session
) -> None:
    """Two bad cells give two rows of the problems table (line, column, French message)."""
    login_as(client, settings, world, "assoc1")
    rows = household_rows(count=3)
    rows[0][4] = "deux"
    rows[2][11] = "31/02/2027"
    response = _send(client, "/households/import", csv_bytes(HEADERS, rows))
    assert response.status_code == 422
    table = response.text.split('class="problems"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td><td>([^<]+)</td>",
                       table)
    assert [(row, column) for row, column, _ in cells] == [("2", "Adultes"),
                                                           ("4", "Valide jusqu&#39;au")]
    assert all(message.strip() for _, _, message in cells)
    assert "rien n&#39;a été enregistré" in response.text
    assert "Importer ces données" not in response.text
    assert _count(session, world) == 0


def test_households_preview_then_commit(client: TestClient, settings: Settings, world: World,
                                        session: Session) -> None:
    """A clean XLSX previews its counts without writing, then the commit button imports it
    from the copy the page kept; importing it again changes nothing."""
    login_as(client, settings, world, "assoc1")
    data = xlsx_bytes(HEADERS, household_rows(count=4))
    preview = _send(client, "/households/import", data, "foyers.xlsx")
    assert preview.status_code == 200, preview.text[-2000:]
    assert 'data-figure="created">4<' in preview.text
    assert _count(session, world) == 0
    content = re.search(r'name="content" value="([^"]+)"', preview.text)
    assert content is not None
    done = client.post("/households/import", data={
        "csrf_token": csrf_of(client), "action": "commit", "content": content.group(1),
        "filename": "foyers.xlsx"}, follow_redirects=True)
    assert "Import terminé : 4 créé(s), 0 mis à jour, 0 inchangé(s)." in done.text
    assert _count(session, world) == 4
    again = _send(client, "/households/import", data, "foyers.xlsx")
    assert 'data-figure="unchanged">4<' in again.text


def test_bad_files_on_the_page(client: TestClient, settings: Settings, world: World,
                               session: Session) -> None:
    """No file, an empty file, garbage and a tampered kept copy: French messages, nothing
    written; a form without its token is refused."""
    login_as(client, settings, world, "assoc1")
    token = csrf_of(client, "/households/import")
    none = client.post("/households/import", data={"csrf_token": token, "action": "preview"})
    assert none.status_code == 422
    assert "Choisissez un fichier à envoyer." in none.text
    empty = _send(client, "/households/import", b"")
    assert empty.status_code == 422
    garbage = _send(client, "/households/import", bytes(range(256)) * 40, "x.xlsx")
    assert garbage.status_code == 422
    assert 'class="problems"' in garbage.text
    tampered = client.post("/households/import", data={
        "csrf_token": token, "action": "commit", "content": "!!not base64!!"})
    assert tampered.status_code == 422
    forged = client.post("/households/import", data={"csrf_token": "x", "action": "commit"},
                         files={"file": ("f.csv", csv_bytes(HEADERS, household_rows()), "")})
    assert forged.status_code == 403
    assert _count(session, world) == 0


def test_lots_import_page_and_templates(client: TestClient, settings: Settings, world: World,
                                        session: Session) -> None:
    """The food team imports a lots file into its week; templates download for each role;
    another team's week is a 404 page."""
    week = Week(organisation_id=world.ids["team1"], starts_on=MONDAY)
    session.add_all([week, Farmer(organisation_id=world.ids["team1"], name="Ferme des Paluds",
                                  siret="12345678900017", address="x", lat=43.8, lon=4.8)])
    session.commit()
    leek = session.get(Product, world.ids["leek"])
    assert leek is not None
    day = MONDAY.strftime("%d/%m/%Y")
    data = csv_bytes(LOT_HEADERS, [["Ferme des Paluds", leek.name, "120,5", "", day,
                                    f"{day} 07:00", f"{day} 10:00", "1,80"]])
    login_as(client, settings, world, "coord1")
    preview = _send(client, f"/weeks/{week.id}/import", data, "lots.csv")
    assert 'data-figure="created">1<' in preview.text
    content = re.search(r'name="content" value="([^"]+)"', preview.text)
    assert content is not None
    client.post(f"/weeks/{week.id}/import", data={
        "csrf_token": csrf_of(client), "action": "commit", "content": content.group(1)})
    assert session.scalar(select(func.count()).select_from(SupplyLot).where(
        SupplyLot.week_id == week.id)) == 1
    template = client.get("/lots/import/template?format=xlsx")
    assert load_workbook(io.BytesIO(template.content)).sheetnames == ["Import", "Aide"]
    assert client.get("/lots/import/template?format=csv").content.decode(
        "utf-8-sig").startswith("Producteur;")
    assert_french_error(client.get(f"/weeks/{uuid.uuid4()}/import"), 404)
    assert_french_error(client.get("/households/import"), 403)
    login_as(client, settings, world, "coord2")
    assert_french_error(client.get(f"/weeks/{week.id}/import"), 404)


def test_volunteers_page_previews_then_imports(client: TestClient, settings: Settings,
                                               world: World, session: Session) -> None:
    """The food team's volunteers upload: a bad row is listed (row, column) and nothing is
    written; a clean file previews, then the commit button creates the volunteers; the page
    and its template are the coordinators' only."""
    from baskets.volunteers.models import Volunteer
    from tests.io.test_import_lots_volunteers import VOL_HEADERS, _vol_rows

    def volunteers() -> int:
        return session.scalar(select(func.count()).select_from(Volunteer).where(
            Volunteer.organisation_id == world.ids["team1"])) or 0

    before = volunteers()
    login_as(client, settings, world, "coord1")
    assert "/volunteers/import" in client.get("/").text
    page = client.get("/volunteers/import")
    assert page.status_code == 200
    assert "Importer des bénévoles" in page.text
    assert "Disponibilités" in page.text  # the columns' help
    rows = _vol_rows()
    rows[1][5] = "voiture"  # a car without capacity
    bad = _send(client, "/volunteers/import", csv_bytes(VOL_HEADERS, rows), "benevoles.csv")
    assert bad.status_code == 422
    assert "Capacité (kg)" in bad.text.split('class="problems"', 1)[1]
    assert volunteers() == before
    preview = _send(client, "/volunteers/import", csv_bytes(VOL_HEADERS, _vol_rows()),
                    "benevoles.csv")
    assert preview.status_code == 200, preview.text[-2000:]
    assert 'data-figure="created">2<' in preview.text
    assert volunteers() == before
    content = re.search(r'name="content" value="([^"]+)"', preview.text)
    assert content is not None
    done = client.post("/volunteers/import", data={
        "csrf_token": csrf_of(client), "action": "commit", "content": content.group(1),
        "filename": "benevoles.csv"}, follow_redirects=True)
    assert "Import terminé : 2 créé(s)" in done.text
    assert volunteers() == before + 2
    template = client.get("/volunteers/import/template?format=xlsx")
    assert template.status_code == 200
    assert load_workbook(io.BytesIO(template.content)).sheetnames
    login_as(client, settings, world, "assoc1")
    assert_french_error(client.get("/volunteers/import"), 403)
    assert_french_error(client.get("/volunteers/import/template"), 403)


def test_upload_pages_explain_the_columns_in_the_reader_language(
        client: TestClient, settings: Settings, world: World) -> None:
    """The columns table of an upload page is in French by default and in English for an
    English reader: headers and what each column holds."""
    login_as(client, settings, world, "coord1")
    french = client.get("/volunteers/import").text
    assert "Heures données par mois." in french
    assert "Hours given per month." not in french
    client.cookies.set("baskets_lang", "en")
    english = client.get("/volunteers/import").text
    assert "Hours given per month." in english
    assert "Heures données par mois." not in english
    assert "Hours per month" in english  # the English header
    client.cookies.delete("baskets_lang")
