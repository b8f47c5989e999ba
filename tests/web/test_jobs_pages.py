"""The coordinator runs the week's allocation from the week page and follows its progress."""

from __future__ import annotations

import uuid

import pytest
from babel.numbers import format_decimal
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.allocation.models import Allocation
from baskets.config import Settings
from tests.api.records import make_records
from tests.web.test_pages import csrf_of, login_as
from tests.world import World


@pytest.fixture
def records(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_records(session, world)


def test_run_allocation_from_the_week_page(client: TestClient, settings: Settings, world: World,
                                           records: dict[str, uuid.UUID],
                                           session: Session) -> None:
    """The week page's button starts a job, the job page shows a progress bar that its
    progress endpoint fills, the jobs list shows it, and the allocation is stored."""
    login_as(client, settings, world, "coord1")
    week = records["week_mine"]
    page = client.get(f"/weeks/{week}")
    assert "Lancer l&#39;allocation" in page.text or "Lancer l'allocation" in page.text
    started = client.post(f"/weeks/{week}/allocation",
                          data={"csrf_token": csrf_of(client, f"/weeks/{week}")},
                          follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"]
    assert job_url.startswith("/jobs/")
    shown = client.get(job_url)
    assert shown.status_code == 200
    assert "<progress" in shown.text
    assert "/static/js/jobs.js" in shown.text
    state = client.get(f"{job_url}/progress").json()
    assert state["status"] == "succeeded"
    assert state["done"] is True
    assert state["progress"] == 100
    assert "foyers, couverture minimale" in state["summary"]
    client.cookies.set("baskets_lang", "en")
    english = client.get(f"{job_url}/progress").json()
    assert "households, worst coverage" in english["summary"]
    client.cookies.delete("baskets_lang")
    listed = client.get("/jobs")
    assert job_url in listed.text
    stored = session.scalar(select(Allocation).where(Allocation.week_id == week))
    assert stored is not None
    assert str(stored.job_id) == job_url.rsplit("/", 1)[1]
    kg = format_decimal(stored.metrics["kg_allocated"], format="#,##0", locale="fr_FR")
    assert state["summary"].endswith(f", {kg} kg alloués.")


def test_another_teams_job_page_is_a_404(client: TestClient, settings: Settings, world: World,
                                         records: dict[str, uuid.UUID]) -> None:
    """A job of another organisation answers the French 404 page, its progress too."""
    login_as(client, settings, world, "coord1")
    assert client.get(f"/jobs/{records['job_theirs']}").status_code == 404
    assert client.get(f"/jobs/{records['job_theirs']}/progress").status_code == 404
