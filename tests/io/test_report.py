"""The weekly report agrees with the stored allocation: every figure recomputed independently
from the baskets and lots in the database; the XLSX has one sheet per section."""

from __future__ import annotations

import io
import uuid
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.reports import service as reports
from baskets.reports.charts import bar_chart
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.territory.models import Neighbourhood
from tests.io.helpers import actor
from tests.io.weekdata import make_week
from tests.world import World


@pytest.fixture
def week(session: Session, world: World) -> uuid.UUID:
    return make_week(session, world)


def _report(client: TestClient, world: World, week: uuid.UUID) -> dict[str, dict]:
    response = client.get(f"/api/v1/weeks/{week}/report", headers=world.auth("coord1"))
    assert response.status_code == 200, response.text
    return {s["key"]: s for s in response.json()["sections"]}


def _figure(section: dict, key: str) -> float:
    return next(f["value"] for f in section["figures"] if f["key"] == key)  # type: ignore[no-any-return]


def test_report_figures_match_the_stored_allocation(client: TestClient, session: Session,
                                                    world: World, week: uuid.UUID) -> None:
    """Kilos per neighbourhood and product, households reached, coverage buckets, kilos left
    and money paid are those a direct reading of the database gives."""
    sections = _report(client, world, week)
    # Kilos and households per neighbourhood, straight from SQL.
    expected = {name: (count, kg) for name, count, kg in session.execute(
        select(Neighbourhood.name, func.count(), func.sum(AllocatedBasket.kg))
        .join(Neighbourhood, Neighbourhood.id == AllocatedBasket.neighbourhood_id)
        .where(AllocatedBasket.week_id == week).group_by(Neighbourhood.name))}
    got = {row["neighbourhood"]: (row["households"], row["kg"])
           for row in sections["neighbourhoods"]["rows"]}
    assert set(got) == set(expected) == {"Frais Vallon", "La Castellane"}
    for name, (count, kg) in expected.items():
        assert got[name][0] == count
        assert got[name][1] == pytest.approx(kg, abs=0.01)
    baskets = session.scalars(select(AllocatedBasket).where(AllocatedBasket.week_id == week)).all()
    # Households reached: a basket with kilos in it.
    reached = sum(1 for b in baskets if sum(i["kg"] for i in b.items) > 0)
    assert _figure(sections["households"], "reached") == reached
    assert _figure(sections["households"], "households") == len(baskets) == 6
    # Kilos per product: the baskets' lines summed by product name.
    names = dict(session.execute(select(Product.id, Product.name)).all())
    per_product: dict[str, float] = defaultdict(float)
    for basket in baskets:
        for item in basket.items:
            per_product[names[uuid.UUID(item["product_id"])]] += item["kg"]
    rows = {row["product"]: row for row in sections["products"]["rows"]}
    for name, kg in per_product.items():
        assert rows[name]["allocated_kg"] == pytest.approx(kg, abs=0.01)
    supplied = dict(session.execute(
        select(Product.name, func.sum(SupplyLot.quantity_kg))
        .join(Product, Product.id == SupplyLot.product_id)
        .where(SupplyLot.week_id == week).group_by(Product.name)).all())
    for name, kg in supplied.items():
        assert rows[name]["supplied_kg"] == pytest.approx(kg, abs=0.01)
    # Coverage distribution: steps of ten points of the stored coverage, itself kg / need.
    buckets = [0] * 11
    for basket in baskets:
        assert basket.coverage == pytest.approx(basket.kg / basket.need_kg, abs=1e-3)
        buckets[min(int(round(basket.coverage * 100, 6)) // 10, 10)] += 1
    assert [row["households"] for row in sections["coverage"]["rows"]] == buckets
    worst = min(b.kg / b.need_kg for b in baskets)
    assert _figure(sections["coverage"], "min") == pytest.approx(100 * worst, abs=0.1)
    # Kilos left: supply minus what the baskets hold, and the solver's own record agrees.
    total_supply = session.scalar(select(func.sum(SupplyLot.quantity_kg))
                                  .where(SupplyLot.week_id == week))
    left = total_supply - sum(b.kg for b in baskets)
    assert _figure(sections["unallocated"], "left_kg") == pytest.approx(left, abs=0.02)
    stored = session.scalars(select(Allocation).where(Allocation.week_id == week)).one()
    assert sum(u["kg"] for u in stored.unallocated) == pytest.approx(left, abs=0.02)
    # Money paid: kilos bought x price, per farmer.
    paid = dict(session.execute(
        select(Farmer.name, func.sum(SupplyLot.quantity_kg * SupplyLot.price_per_kg))
        .join(Farmer, Farmer.id == SupplyLot.farmer_id)
        .where(SupplyLot.week_id == week).group_by(Farmer.name)).all())
    farmer_rows = {row["farmer"]: row["paid_eur"] for row in sections["farmers"]["rows"]}
    assert farmer_rows == pytest.approx(paid, abs=0.01)
    assert _figure(sections["farmers"], "paid_eur") == pytest.approx(sum(paid.values()),
                                                                      abs=0.01)
    assert "kilos achetés" in sections["farmers"]["note"]
    # No rounds planned and no hours logged yet: both parts say so, marked unavailable.
    assert not sections["km"]["available"]
    assert not sections["sponsorship"]["available"]


def test_adding_a_section_is_one_function(session: Session, world: World,
                                          week: uuid.UUID) -> None:
    """A builder appended to the list appears in the report with its figures."""
    def lots_count(ctx: reports.ReportContext) -> reports.Section:
        return reports.Section(key="lots", fr="Lots", en="Lots", figures=[
            reports.Figure("lots", "Lots", "Lots", len(ctx.lots))])

    report = reports.weekly_report(session, actor=actor(session, world, "coord1"),
                                   week_id=week, builders=[*reports.SECTIONS, lots_count])
    assert report.sections[-1].figures[0].value == 4


def test_report_document_has_a_sheet_per_section(client: TestClient, world: World,
                                                 week: uuid.UUID) -> None:
    """The XLSX holds a summary and one sheet per section, with the same figures."""
    response = client.get(f"/api/v1/weeks/{week}/report/document", headers=world.auth("coord1"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sections = _report(client, world, week)
    assert len(book.sheetnames) == 1 + len(sections)
    assert book.sheetnames[0] == "Résumé"
    sheet = book["Kilos par quartier"]
    kg = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert kg == {r["neighbourhood"]: r["kg"] for r in sections["neighbourhoods"]["rows"]}


def test_report_is_the_food_teams_only(client: TestClient, world: World,
                                       week: uuid.UUID) -> None:
    """Another team's coordinator gets 404, an association 403."""
    assert client.get(f"/api/v1/weeks/{week}/report",
                      headers=world.auth("coord2")).status_code == 404
    assert client.get(f"/api/v1/weeks/{week}/report",
                      headers=world.auth("assoc1")).status_code == 403


def test_chart_escapes_labels_and_scales_bars() -> None:
    """Labels are escaped; the largest value gets the longest bar."""
    svg = str(bar_chart(["<b>Frais</b>", "Castellane"], [10.0, 5.0], title="Kilos", unit="kg"))
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    widths = [float(part.split('"')[0]) for part in svg.split('width="')[2:]]
    assert widths[0] == pytest.approx(2 * widths[1])
