"""End to end in Chromium on the demo data: a volunteer claims a round and marks its stops
done. The week is allocated and its rounds planned first (in the live database), and put back
as it was afterwards so the other browser tests see the demo untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from tests.web.browser import LiveServer, login
from tests.web.test_browser import VOLUNTEER, shot


@pytest.fixture
def planned_week(live_server: LiveServer) -> Iterator[None]:
    """The AMP draft week allocated and its rounds planned (short solves), then restored."""
    from baskets.accounts.models import Organisation
    from baskets.allocation.models import Allocation
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.demo.week import _coordinator
    from baskets.rounds.models import RoundPlan
    from baskets.weeks.models import Week, WeekStatus

    engine = make_engine(live_server.database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        week = session.scalars(select(Week).join(Organisation).where(
            Organisation.name.like("%Aix-Marseille%"),
            # Another browser test may already have allocated it (the live demo is shared).
            Week.status.in_([WeekStatus.draft, WeekStatus.allocated]))
            .order_by(Week.starts_on)).first()
        assert week is not None
        week_id, status = week.id, week.status
        from baskets.allocation import service as allocation
        from baskets.rounds import service as rounds

        actor = _coordinator(session, week.organisation_id)
        allocation.allocate_week(session, actor=actor, week_id=week_id, time_limit=3, seed=1)
        rounds.plan_week_rounds(session, actor=actor, week_id=week_id, time_limit=5, seed=1)
        session.get(Week, week_id).status = status  # type: ignore[union-attr]
    try:
        yield
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(RoundPlan).where(RoundPlan.week_id == week_id))
            if status == WeekStatus.draft:
                session.execute(delete(Allocation).where(Allocation.week_id == week_id))
            session.get(Week, week_id).status = status  # type: ignore[union-attr]
        engine.dispose()


def test_volunteer_claims_a_round_and_marks_its_stops_done(
        page: Any, live_server: LiveServer, planned_week: None, tmp_path: Path) -> None:
    """A volunteer opens the rounds near them, takes one, finds its sheet with the map and a
    navigation link per stop, and marks every stop done until the round is finished."""
    base = live_server.base_url
    login(page, base, VOLUNTEER)
    page.get_by_role("link", name="Tournées", exact=True).click()
    page.get_by_role("heading", name="Tournées à pourvoir près de chez vous").wait_for()
    page.get_by_role("button", name=re.compile(r"^Prendre la tournée n° \d+$")).first.click()
    page.get_by_role("status").filter(has_text="Tournée prise : merci !").wait_for()
    assert page.get_by_role("heading", name=re.compile(r"^Feuille de route n° \d+")).is_visible()
    page.locator("[data-routes-drawn='1']").wait_for()
    stops = page.locator("table.sheet tbody tr").count()
    assert stops >= 2
    assert page.locator("a[href^='geo:']").count() == stops
    shot(page, tmp_path, "volunteer-round-sheet")
    for n in range(1, stops + 1):
        page.get_by_role("button", name=f"Étape {n} faite", exact=True).click()
        page.get_by_role("status").filter(has_text=f"Étape {n} faite.").wait_for()
    assert page.locator(".badge").filter(has_text="Terminée").is_visible()
    assert page.get_by_role("button", name=re.compile(r"^Étape \d+ faite$")).count() == 0
    shot(page, tmp_path, "volunteer-round-done")
    page.get_by_role("link", name="Tournées", exact=True).click()
    assert "Terminée" in page.get_by_role("table").first.inner_text()
