"""End to end in Chromium on the demo data: a volunteer claims a round and marks its stops
done. The week is allocated and its rounds planned first (in the live database), and put back
as it was afterwards so the other browser tests see the demo untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import LiveServer, login
from tests.web.field_data import PlannedWeek, planned_demo_week
from tests.web.test_browser import VOLUNTEER, shot


@pytest.fixture
def planned_week(live_server: LiveServer) -> Iterator[PlannedWeek]:
    """The AMP week allocated and its rounds planned (short solves), ahead of now."""
    with planned_demo_week(live_server.database_url) as planned:
        yield planned


def test_volunteer_claims_a_round_and_marks_its_stops_done(
        page: Any, live_server: LiveServer, planned_week: PlannedWeek, tmp_path: Path) -> None:
    """A volunteer opens the rounds near them, takes one (confirming when it is outside their
    availability), finds its sheet with the numbered map and a navigation link per stop, and
    marks every stop done, one at a time, until the round is finished."""
    base = live_server.base_url
    login(page, base, VOLUNTEER)
    page.get_by_role("link", name="Tournées", exact=True).click()
    page.get_by_role("heading", name="Tournées à pourvoir près de chez vous").wait_for()
    page.get_by_role("button", name=re.compile(r"^Prendre la tournée n° \d+$")).first.click()
    confirm = page.get_by_role("button", name="Oui, prendre cette tournée")
    flash = page.get_by_role("status").filter(has_text="Tournée prise : merci !")
    confirm.or_(flash).wait_for()
    if confirm.is_visible():
        assert page.get_by_role("alert").filter(has_text="sort de vos disponibilités").count()
        confirm.click()
    flash.wait_for()
    assert page.get_by_role("heading", name=re.compile(r"^Feuille de route n° \d+")).is_visible()
    page.locator("[data-routes-drawn='1']").wait_for()
    stops = page.locator("li[data-stop]").count()
    assert stops >= 2
    assert page.locator("a[href^='geo:']").count() == stops
    assert page.locator(".marker-number").count() >= 2
    shot(page, tmp_path, "volunteer-round-sheet")
    for n in range(1, stops + 1):
        page.get_by_role("button", name=f"Étape {n} faite", exact=True).click()
        page.locator("[data-stops-done]").filter(has_text=re.compile(f"^{n}$")).wait_for()
    page.get_by_role("status").filter(has_text="Tout est envoyé.").wait_for()
    page.reload()
    assert page.locator(".badge").filter(has_text="Terminée").is_visible()
    assert page.get_by_role("button", name=re.compile(r"^Étape \d+ faite$")).count() == 0
    shot(page, tmp_path, "volunteer-round-done")
    page.get_by_role("link", name="Tournées", exact=True).click()
    assert "Terminée" in page.locator(".round-cards").first.inner_text()
