"""End to end in Chromium on the demo data: the coordinator runs the matching, a company
accepts a proposed match (the project accepts too) and logs hours, then reads its report.
Saves screenshots in tmp_path; fails on any console error (see conftest.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.web.browser import LiveServer, login
from tests.web.test_browser import COORDINATOR


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    """A screenshot of the visible page (the long lists make full-page shots slow)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), timeout=60_000)
    assert path.stat().st_size > 5_000
    return path


def _pick(database_url: str) -> tuple[str, str, str, float]:
    """A proposed offer engagement that can take hours today: (id, company e-mail, project
    owner's e-mail, hours)."""
    from baskets.accounts.models import Role, User
    from baskets.db import make_engine, make_session_factory
    from baskets.engagements.models import Engagement, EngagementStatus

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            for engagement in session.scalars(
                select(Engagement).where(Engagement.offer_id.is_not(None),
                                         Engagement.status == EngagementStatus.proposed,
                                         Engagement.starts_on <= date.today())
                .order_by(Engagement.hours.desc(), Engagement.id)
            ):
                company = session.scalars(select(User.email).where(
                    User.organisation_id == engagement.provider_organisation_id,
                    User.role == Role.company).order_by(User.email)).first()
                owner = session.scalars(select(User.email).where(
                    User.organisation_id == engagement.project_organisation_id,
                    User.role == Role.association).order_by(User.email)).first()
                if company and owner:
                    return str(engagement.id), company, owner, engagement.hours
    finally:
        engine.dispose()
    raise AssertionError("the demo matching proposed no engagement that can start today")


def _logout(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()


def test_company_accepts_a_match_and_logs_hours(page: Any, live_server: LiveServer,
                                                tmp_path: Path) -> None:
    """Run the matching; the company accepts with reasons shown, the project accepts, the
    company logs 3.5 h and finds them in its report of hours given."""
    base = live_server.base_url
    login(page, base, COORDINATOR)
    page.get_by_role("link", name="Appariement").click()
    page.get_by_role("button", name="Lancer l'appariement").click()
    # The run is a job: its page fills a progress bar until the job ends.
    page.locator("[data-job-status]").filter(has_text="terminée").wait_for(timeout=90_000)
    shot(page, tmp_path, "coordinator-matching-job")
    page.get_by_role("link", name="Voir l'appariement").click()
    assert page.get_by_role("heading", name=re.compile("Besoins non couverts")).is_visible()
    shot(page, tmp_path, "coordinator-matching")
    _logout(page)

    engagement_id, company, owner, hours = _pick(live_server.database_url)
    card = f'[data-engagement="{engagement_id}"]'
    login(page, base, company)
    page.get_by_role("link", name="Engagements").click()
    proposal = page.locator(card)
    assert "Pourquoi cette proposition" in proposal.inner_text()
    assert "Compétence « " in proposal.inner_text()
    proposal.scroll_into_view_if_needed()
    shot(page, tmp_path, "company-proposal")
    proposal.get_by_role("button", name=re.compile("^Accepter")).click()
    page.get_by_role("status").filter(has_text="Proposition acceptée.").wait_for()
    _logout(page)

    login(page, base, owner)
    page.get_by_role("link", name="Engagements").click()
    page.locator(card).get_by_role("button", name=re.compile("^Accepter")).click()
    page.get_by_role("status").filter(has_text="Proposition acceptée.").wait_for()
    _logout(page)

    login(page, base, company)
    page.get_by_role("link", name="Engagements").click()
    engagement = page.locator(card)
    logged = min(3.5, hours)
    engagement.get_by_label("Heures", exact=True).fill(str(logged))
    engagement.get_by_label("Note (facultative)").fill("Premier atelier")
    engagement.get_by_role("button", name="Enregistrer les heures").click()
    page.get_by_role("status").filter(has_text="Heures enregistrées").wait_for()
    text = page.locator(card).inner_text()
    assert "Premier atelier" in text
    assert "en attente du projet" in text
    page.locator(card).scroll_into_view_if_needed()
    shot(page, tmp_path, "company-hours")
    page.get_by_role("link", name="Heures données").click()
    page.get_by_role("heading", name="Heures données aux projets").wait_for()
    assert page.get_by_role("link", name="Télécharger (CSV)").is_visible()
    shot(page, tmp_path, "company-report")
