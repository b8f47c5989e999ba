"""Matching pages without a browser: the coordinator runs it, a company accepts and logs hours,
the project approves them, and the company's report shows their value."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.config import Settings
from baskets.engagements.models import Engagement, EngagementStatus, HoursLog
from tests.engagements.scene import TODAY, make_scene
from tests.web.test_pages import assert_french_error, csrf_of, login_as
from tests.world import World


@pytest.fixture
def scene(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_scene(session, world)


def _run_from_page(client: TestClient, settings: Settings, world: World) -> str:
    login_as(client, settings, world, "coord1")
    started = client.post("/matching", data={"csrf_token": csrf_of(client, "/matching")},
                          follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"]
    assert job_url.startswith("/jobs/")
    shown = client.get(job_url)
    assert "Appariement des projets" in shown.text
    assert 'href="/matching" data-job-done-link' in shown.text
    assert client.get(f"{job_url}/progress").json()["status"] == "succeeded"
    page = client.get("/matching")
    assert page.status_code == 200
    return page.text


def test_coordinator_runs_matching_and_reads_reasons(
        client: TestClient, settings: Settings, world: World, scene: dict[str, uuid.UUID]
) -> None:
    """The run button stores a run; the page shows figures, reasons and uncovered needs."""
    text = _run_from_page(client, settings, world)
    assert "couvertes sur" in text
    assert "Compétence « accounting »" in text
    assert "Personne ne propose la compétence « plumbing »" in text


def test_company_accepts_logs_hours_and_gets_its_report(
        client: TestClient, settings: Settings, world: World, scene: dict[str, uuid.UUID],
        session: Session) -> None:
    """Accept, bad hours (nothing written), good hours, approval by the project, report."""
    _run_from_page(client, settings, world)
    engagement = session.scalars(select(Engagement).where(
        Engagement.offer_id == scene["offer"]).order_by(Engagement.hours.desc())).first()
    assert engagement is not None
    owner = "assoc1" if engagement.project_id == scene["p1"] else "assoc1b"
    login_as(client, settings, world, "company1")
    page = client.get("/engagements")
    assert "Pourquoi cette proposition" in page.text
    token = csrf_of(client, "/engagements")
    client.post(f"/engagements/{engagement.id}/accept", data={"csrf_token": token})
    login_as(client, settings, world, owner)
    client.post(f"/engagements/{engagement.id}/accept",
                data={"csrf_token": csrf_of(client, "/engagements")})
    session.refresh(engagement)
    assert engagement.status is EngagementStatus.accepted
    login_as(client, settings, world, "company1")
    token = csrf_of(client, "/engagements")
    too_many = client.post(f"/engagements/{engagement.id}/hours", data={
        "csrf_token": token, "worked_on": TODAY.isoformat(), "hours": "30"})
    assert too_many.status_code == 422
    assert "Doit être inférieur ou égal à 24" in too_many.text
    beyond = client.post(f"/engagements/{engagement.id}/hours", data={
        "csrf_token": token, "worked_on": TODAY.isoformat(),
        "hours": str(engagement.hours + 0.5).replace(".", ",")})
    assert beyond.status_code == 422
    assert "Il ne reste que" in beyond.text
    assert session.scalar(select(func.count()).select_from(HoursLog)) == 0
    done = client.post(f"/engagements/{engagement.id}/hours", data={
        "csrf_token": token, "worked_on": TODAY.isoformat(), "hours": "2,5",
        "note": "Atelier budget"}, follow_redirects=True)
    assert "Heures enregistrées" in done.text
    log = session.scalars(select(HoursLog)).one()
    assert log.hours == 2.5
    login_as(client, settings, world, owner)
    approved = client.post(f"/engagements/{engagement.id}/hours/{log.id}/approve",
                           data={"csrf_token": csrf_of(client, "/engagements")},
                           follow_redirects=True)
    assert "Heures validées." in approved.text
    login_as(client, settings, world, "company1")
    report = client.get("/report").text
    assert re.search(r"112,50\s*€", report)  # 2.5 h at 45 €/h
    assert re.search(r"67,50\s*€", report)  # 60 % of it
    csv_file = client.get("/report.csv")
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "Heures validées" in csv_file.content.decode("utf-8-sig")


def test_another_organisations_engagement_is_a_404_page(
        client: TestClient, settings: Settings, world: World, scene: dict[str, uuid.UUID],
        session: Session) -> None:
    """company2 cannot accept company1's proposal: the same French 404 page, nothing changed."""
    _run_from_page(client, settings, world)
    engagement = session.scalars(select(Engagement).where(
        Engagement.offer_id == scene["offer"])).first()
    assert engagement is not None
    login_as(client, settings, world, "company2")
    answer = client.post(f"/engagements/{engagement.id}/accept",
                         data={"csrf_token": csrf_of(client, "/engagements")})
    assert_french_error(answer, 404)
    session.refresh(engagement)
    assert engagement.status is EngagementStatus.proposed
