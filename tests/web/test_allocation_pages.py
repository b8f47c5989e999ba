"""The allocation on the pages: the week's figures and publication, the weekly report with its
charts, a point's packing list and the collection marks (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.config import Settings
from baskets.households.models import Household
from baskets.weeks.models import Week, WeekStatus
from tests.io.weekdata import make_week
from tests.web.test_pages import assert_french_error, csrf_of, login_as
from tests.world import World


@pytest.fixture
def week(session: Session, world: World) -> uuid.UUID:
    return make_week(session, world)


def test_week_page_shows_the_allocation_and_publishes(
    client: TestClient, settings: Settings, world: World, session: Session, week: uuid.UUID
) -> None:
    """Worst and mean coverage, kilos left and each neighbourhood appear; publishing from the
    page freezes the week."""
    login_as(client, settings, world, "coord1")
    page = client.get(f"/weeks/{week}")
    assert page.status_code == 200
    stored = session.scalars(select(Allocation).where(Allocation.week_id == week)).one()
    worst = round(100 * stored.metrics["min_coverage"])
    assert re.search(rf'data-figure="min-coverage">{worst}\s%', page.text)
    assert "La Castellane" in page.text
    assert "Frais Vallon" in page.text
    assert "Publier la semaine" in page.text
    published = client.post(f"/weeks/{week}/publish", data={"csrf_token": csrf_of(client)},
                            follow_redirects=True)
    assert "Semaine publiée." in published.text
    assert "Publier la semaine" not in published.text
    session.expire_all()
    assert session.get(Week, week).status is WeekStatus.published  # type: ignore[union-attr]
    again = client.post(f"/weeks/{week}/publish", data={"csrf_token": csrf_of(client)})
    assert again.status_code == 409


def test_report_page_draws_charts_and_downloads(client: TestClient, settings: Settings,
                                                world: World, week: uuid.UUID) -> None:
    """The report page has an SVG chart per section with rows and a working XLSX link;
    an association gets a French 403 page."""
    login_as(client, settings, world, "coord1")
    page = client.get(f"/weeks/{week}/report")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 5
    assert "<script" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Kilomètres parcourus" in page.text
    document = client.get(f"/weeks/{week}/report.xlsx")
    assert document.status_code == 200
    assert "Kilos par quartier" in load_workbook(io.BytesIO(document.content)).sheetnames
    login_as(client, settings, world, "assoc1")
    assert_french_error(client.get(f"/weeks/{week}/report"), 403)


def test_point_page_packing_list_and_collection(
    client: TestClient, settings: Settings, world: World, session: Session, week: uuid.UUID
) -> None:
    """The point's packing list counts its baskets; marking one collected is stored; another
    association's basket is a 404 and stays unmarked."""
    login_as(client, settings, world, "assoc1")
    page = client.get(f"/points/{world.ids['point1']}")
    assert page.status_code == 200
    baskets = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week,
        AllocatedBasket.distribution_point_id == world.ids["point1"])).all()
    full = sum(1 for b in baskets if b.kg > 0)
    assert f'data-figure="baskets">{full}<' in page.text
    assert "Liste de colisage" in page.text
    assert "Poireaux" in page.text
    household = session.scalars(select(Household).where(Household.reference == "WK-1")).one()
    basket = next(b for b in baskets if b.household_id == household.id)
    token = csrf_of(client)
    marked = client.post(f"/baskets/{basket.id}/collected",
                         data={"csrf_token": token, "collected": "yes"}, follow_redirects=True)
    assert "Panier de WK-1 : retiré." in marked.text
    session.expire_all()
    assert session.get(AllocatedBasket, basket.id).collected is True  # type: ignore[union-attr]
    theirs = session.scalars(select(AllocatedBasket).where(
        AllocatedBasket.week_id == week,
        AllocatedBasket.organisation_id == world.ids["assoc1b"])).first()
    assert theirs is not None
    refused = client.post(f"/baskets/{theirs.id}/collected",
                          data={"csrf_token": token, "collected": "yes"})
    assert_french_error(refused, 404)
    session.expire_all()
    assert session.get(AllocatedBasket, theirs.id).collected is None  # type: ignore[union-attr]
