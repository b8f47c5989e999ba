"""Baskets per distribution point: CSV and XLSX, scoped to the caller, formulas escaped, CLI."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket
from baskets.households.models import Household
from baskets.io.export import BASKET_HEADERS
from tests.io.weekdata import make_week
from tests.world import World


@pytest.fixture
def week(session: Session, world: World) -> uuid.UUID:
    return make_week(session, world)


def _csv(client: TestClient, world: World, week: uuid.UUID, who: str,
         **params: str) -> list[list[str]]:
    response = client.get(f"/api/v1/weeks/{week}/exports/baskets", headers=world.auth(who),
                          params={"format": "csv", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="paniers.csv"'
    # A real CSV reader: a basket's contents hold quoted "; " separators.
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_coordinator_gets_every_basket_pseudonymously(client: TestClient, session: Session,
                                                      world: World, week: uuid.UUID) -> None:
    """The food team's export lists each stored basket once, by point, with no reference or
    name; kilos match the stored baskets."""
    rows = _csv(client, world, week, "coord1")
    assert tuple(rows[0]) == BASKET_HEADERS
    stored = session.scalars(select(AllocatedBasket).where(AllocatedBasket.week_id == week)).all()
    assert len(rows) - 1 == len(stored) == 6
    by_household = {str(b.household_id): b for b in stored}
    for row in rows[1:]:
        basket = by_household[row[2]]
        assert float(row[5].replace(",", ".")) == pytest.approx(basket.kg, abs=0.01)
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])
    text = "\n".join(";".join(row) for row in rows)
    assert "WK-" not in text
    assert "Lefèvre" not in text


def test_association_gets_its_own_baskets_with_references(client: TestClient, world: World,
                                                         week: uuid.UUID) -> None:
    """An association sees only its households' baskets, by reference; the contents are named."""
    rows = _csv(client, world, week, "assoc1")
    assert sorted(row[2] for row in rows[1:]) == ["WK-0", "WK-1", "WK-2"]
    assert {row[0] for row in rows[1:]} == {"Centre social 1"}
    assert any("Poireaux" in row[7] for row in rows[1:])
    other = _csv(client, world, week, "assoc1b", point_id=str(world.ids["point1"]))
    assert len(other) == 1  # the header alone: another association's point holds none of mine


def test_xlsx_escapes_a_formula_typed_in_a_reference(client: TestClient, session: Session,
                                                      world: World, week: uuid.UUID) -> None:
    """A reference that looks like a formula is written as text with an apostrophe."""
    household = session.scalars(select(Household).where(Household.reference == "WK-0")).one()
    household.reference = "=HYPERLINK(\"http://evil\")"
    session.commit()
    response = client.get(f"/api/v1/weeks/{week}/exports/baskets", params={"format": "xlsx"},
                          headers=world.auth("assoc1"))
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=HYPERLINK(\"http://evil\")" in [cell.value for cell in cells]


def test_other_territory_and_wrong_role(client: TestClient, world: World,
                                        week: uuid.UUID) -> None:
    """Another territory's association gets 404, a company 403."""
    for who, status in (("assoc2", 404), ("coord2", 404), ("company1", 403)):
        response = client.get(f"/api/v1/weeks/{week}/exports/baskets", headers=world.auth(who))
        assert response.status_code == status, who
