"""Matching runs from the database, the engagement workflow, logged hours and the report."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.engagements.models import Engagement, HoursLog
from tests.engagements.scene import TODAY, make_scene
from tests.world import World

API = "/api/v1"


@pytest.fixture
def scene(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_scene(session, world)


def run(client: TestClient, world: World, **headers: str) -> dict[str, Any]:
    """Start a matching run (202 and a job), the job has succeeded: the stored run."""
    started = client.post(f"{API}/matching/runs", json={"time_limit": 5, "seed": 1},
                          headers={**world.auth("coord1"), **headers})
    assert started.status_code == 202, started.text
    job = client.get(started.json()["url"], headers=world.auth("coord1")).json()
    assert job["status"] == "succeeded", job
    response = client.get(job["result"]["url"], headers={**world.auth("coord1"), **headers})
    assert response.status_code == 200, response.text
    assert len(response.json()["assignments"]) == job["result"]["assignments"]
    return response.json()  # type: ignore[no-any-return]


def call(client: TestClient, world: World, who: str, method: str, path: str,
         body: Any = None, **headers: str) -> Any:
    return client.request(method, API + path, json=body, headers={**world.auth(who), **headers})


def offer_engagement(result: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in result["assignments"] if a["provider_kind"] == "offer")


def accept_both(client: TestClient, world: World, engagement_id: str, project_owner: str
                ) -> dict[str, Any]:
    first = call(client, world, "company1", "POST", f"/engagements/{engagement_id}/accept")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "proposed"
    second = call(client, world, project_owner, "POST", f"/engagements/{engagement_id}/accept")
    assert second.status_code == 200, second.text
    return second.json()  # type: ignore[no-any-return]


def owner_of(result: dict[str, Any], scene: dict[str, uuid.UUID], engagement: dict[str, Any]
             ) -> str:
    return "assoc1" if engagement["project_id"] == str(scene["p1"]) else "assoc1b"


def test_run_stores_assignments_uncovered_and_figures(
        client: TestClient, world: World, scene: dict[str, uuid.UUID], session: Session) -> None:
    """A run proposes engagements within every budget, with reasons in both languages, and
    says why plumbing stays uncovered."""
    result = run(client, world)
    assert result["assignments"]
    given: dict[str, float] = {}
    for a in result["assignments"]:
        assert a["reasons"]
        assert a["skill"] == "accounting"
        assert any(f"{TODAY - timedelta(days=7):%d/%m/%Y}" in r for r in a["reasons"])
        given[a["provider_kind"]] = given.get(a["provider_kind"], 0.0) + a["hours"]
    assert given.get("offer", 0) <= 20 + 1e-6
    assert given.get("volunteer", 0) <= 6 + 1e-6
    assert result["hours_needed"] == 29
    assert result["hours_covered"] == pytest.approx(sum(given.values()))
    assert 0 < result["worst_share"] <= 1
    plumbing = [u for u in result["uncovered"] if u["skill"] == "plumbing"]
    assert plumbing[0]["hours"] == 5
    assert any("plumbing" in r and "Personne" in r for r in plumbing[0]["reasons"])
    stored = session.scalar(select(func.count()).select_from(Engagement))
    assert stored == len(result["assignments"])
    english = call(client, world, "coord1", "GET", f"/matching/runs/{result['id']}",
                   **{"Accept-Language": "en"}).json()
    assert any("Nobody offers" in r for u in english["uncovered"] for r in u["reasons"])
    assert english["assignments"][0]["reasons"] != result["assignments"][0]["reasons"]


def test_accepted_engagements_stay_when_re_solved(
        client: TestClient, world: World, scene: dict[str, uuid.UUID]) -> None:
    """Both sides accept one engagement; a re-run keeps it as fixed and replaces the rest."""
    first = run(client, world)
    kept = offer_engagement(first)
    accepted = accept_both(client, world, kept["engagement_id"], owner_of(first, scene, kept))
    assert accepted["status"] == "accepted"
    second = run(client, world)
    fixed = [a for a in second["assignments"] if a["fixed"]]
    assert [a["engagement_id"] for a in fixed] == [kept["engagement_id"]]
    assert fixed[0]["hours"] == kept["hours"]
    replaced = {a["engagement_id"] for a in first["assignments"]} - {kept["engagement_id"]}
    for engagement_id in replaced:
        gone = call(client, world, "coord1", "GET", f"/engagements/{engagement_id}")
        assert gone.status_code == 404
    again = call(client, world, "company1", "GET", f"/engagements/{kept['engagement_id']}")
    assert again.json()["status"] == "accepted"


def test_accepting_beyond_the_offer_is_refused_and_changes_nothing(
        client: TestClient, world: World, scene: dict[str, uuid.UUID]) -> None:
    """Once the offer shrank below the proposal, accepting answers 409 in French or English
    and the decision stays pending."""
    engagement = offer_engagement(run(client, world))
    shrink = call(client, world, "company1", "PATCH", f"/offers/{scene['offer']}",
                  {"hours": engagement["hours"] - 1, "min_chunk_hours": 1})
    assert shrink.status_code == 200, shrink.text
    path = f"/engagements/{engagement['engagement_id']}/accept"
    refused = call(client, world, "company1", "POST", path)
    assert refused.status_code == 409
    assert "n'a plus que" in refused.json()["error"]["message"]
    english = call(client, world, "company1", "POST", path, **{"Accept-Language": "en"})
    assert "has only" in english.json()["error"]["message"]
    after = call(client, world, "company1", "GET", f"/engagements/{engagement['engagement_id']}")
    assert after.json()["provider_decision"] == "pending"


def test_agreement_total_bounds_acceptance(
        client: TestClient, world: World, scene: dict[str, uuid.UUID], session: Session) -> None:
    """A company whose agreement has fewer hours left than the proposal cannot accept it."""
    from baskets.accounts.models import Organisation

    engagement = offer_engagement(run(client, world))
    company = session.get(Organisation, world.ids["company1"])
    assert company is not None
    company.agreement_hours = engagement["hours"] - 0.5
    session.commit()
    refused = call(client, world, "company1", "POST",
                   f"/engagements/{engagement['engagement_id']}/accept")
    assert refused.status_code == 409
    assert "accord de mécénat" in refused.json()["error"]["message"]


def test_hours_logged_approved_and_reported(
        client: TestClient, world: World, scene: dict[str, uuid.UUID], session: Session) -> None:
    """Hours are checked (accepted engagement, not in the future, within the hours), approved by
    the project, complete the engagement, and appear in the report at 45 €/h with 60 %."""
    result = run(client, world)
    engagement = offer_engagement(result)
    eid, owner = engagement["engagement_id"], owner_of(result, scene, engagement)
    early = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                 {"worked_on": TODAY.isoformat(), "hours": 1})
    assert early.status_code == 409
    accept_both(client, world, eid, owner)
    future = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                  {"worked_on": (TODAY + timedelta(days=1)).isoformat(), "hours": 1})
    assert future.status_code == 422
    hours = engagement["hours"]
    too_many = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                    {"worked_on": TODAY.isoformat(), "hours": min(hours + 1, 24)})
    assert too_many.status_code == 422
    assert "Il ne reste que" in too_many.json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(HoursLog)) == 0
    logged = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                  {"worked_on": TODAY.isoformat(), "hours": hours, "note": "Bilan annuel"})
    assert logged.status_code == 201, logged.text
    state = call(client, world, "company1", "GET", f"/engagements/{eid}").json()
    assert state["status"] == "in_progress"
    assert state["hours_logged"] == hours
    other = "assoc1b" if owner == "assoc1" else "assoc1"
    hidden = call(client, world, other, "POST",
                  f"/engagements/{eid}/hours/{logged.json()['id']}/approve")
    assert hidden.status_code == 404
    approved = call(client, world, owner, "POST",
                    f"/engagements/{eid}/hours/{logged.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert call(client, world, "company1", "GET", f"/engagements/{eid}").json()[
        "status"] == "completed"
    report = call(client, world, "company1", "GET", "/companies/me/report").json()
    assert report["hours_approved"] == hours
    assert report["value"] == pytest.approx(hours * 45)
    assert report["tax_reduction"] == pytest.approx(hours * 45 * 0.6)
    line = report["lines"][0]
    assert line["project_id"] == engagement["project_id"]
    assert line["neighbourhood"] in ("Frais Vallon", "Bassens")
    text = call(client, world, "company1", "GET", "/companies/me/report.csv").content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Projet"
    assert rows[-1][0] == "Total"
    if engagement["project_id"] == str(scene["p1"]):
        assert rows[1][0] == "'=1+1 Épicerie"  # never written back as a formula
    xlsx = call(client, world, "company1", "GET", "/companies/me/report.xlsx")
    assert xlsx.content[:2] == b"PK"


def test_each_side_sees_only_its_engagements(
        client: TestClient, world: World, scene: dict[str, uuid.UUID]) -> None:
    """The company sees its offers' engagements, the volunteer theirs, each association its
    projects'; another organisation's engagement and project are 404."""
    result = run(client, world)
    ids = {a["engagement_id"]: a for a in result["assignments"]}
    company = call(client, world, "company1", "GET", "/engagements").json()["items"]
    assert {e["provider_kind"] for e in company} == {"offer"}
    volunteer = call(client, world, "volunteer1", "GET", "/engagements").json()["items"]
    assert {e["provider_kind"] for e in volunteer} <= {"volunteer"}
    assert len(company) + len(volunteer) == len(ids)
    p1 = call(client, world, "assoc1", "GET", f"/projects/{scene['p1']}/engagements")
    assert p1.status_code == 200
    assert all(e["project_id"] == str(scene["p1"]) for e in p1.json())
    assert call(client, world, "assoc2", "GET",
                f"/projects/{scene['p1']}/engagements").status_code == 404
    some = next(iter(ids))
    assert call(client, world, "company2", "GET", f"/engagements/{some}").status_code == 404
    assert call(client, world, "company2", "POST",
                f"/engagements/{some}/accept").status_code == 404


def test_declined_engagement_cannot_be_accepted(
        client: TestClient, world: World, scene: dict[str, uuid.UUID]) -> None:
    """A project that declines ends the proposal; the company's later accept is a 409, and a
    re-run keeps the declined record and never proposes that offer to that project again."""
    result = run(client, world)
    engagement = offer_engagement(result)
    eid = engagement["engagement_id"]
    declined = call(client, world, owner_of(result, scene, engagement), "POST",
                    f"/engagements/{eid}/decline")
    assert declined.json()["status"] == "declined"
    late = call(client, world, "company1", "POST", f"/engagements/{eid}/accept")
    assert late.status_code == 409
    assert "décliné" in late.json()["error"]["message"]
    again = run(client, world)
    assert call(client, world, "company1", "GET", f"/engagements/{eid}").json()[
        "status"] == "declined"
    assert not [a for a in again["assignments"] if a["provider_kind"] == "offer"
                and a["project_id"] == engagement["project_id"]]


def test_run_without_projects_is_422(client: TestClient, world: World) -> None:
    """A territory with no open project answers 422 and stores no run."""
    response = call(client, world, "coord2", "POST", "/matching/runs", {"time_limit": 2})
    assert response.status_code == 422
    assert "Aucun projet" in response.json()["error"]["message"]


def test_weekly_report_counts_the_weeks_sponsorship_hours(
        client: TestClient, world: World, scene: dict[str, uuid.UUID], session: Session) -> None:
    """The food team's weekly report holds the hours logged on its engagements for a day of
    the week: approved sponsorship hours and their value, hours awaiting approval, per
    neighbourhood; the figures match a sum over the database."""
    from baskets.accounts.models import Organisation
    from baskets.sponsorship.models import Project
    from baskets.territory.models import Neighbourhood
    from baskets.weeks.models import Week

    result = run(client, world)
    engagement = offer_engagement(result)
    eid, owner = engagement["engagement_id"], owner_of(result, scene, engagement)
    accept_both(client, world, eid, owner)
    first = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                 {"worked_on": TODAY.isoformat(), "hours": 1})
    assert first.status_code == 201, first.text
    assert call(client, world, owner, "POST",
                f"/engagements/{eid}/hours/{first.json()['id']}/approve").status_code == 200
    second = call(client, world, "company1", "POST", f"/engagements/{eid}/hours",
                  {"worked_on": TODAY.isoformat(), "hours": 1})
    assert second.status_code == 201, second.text
    monday = TODAY - timedelta(days=TODAY.weekday())
    week = session.scalar(select(Week).where(Week.organisation_id == world.ids["team1"],
                                             Week.starts_on == monday))
    if week is None:
        week = Week(organisation_id=world.ids["team1"], starts_on=monday)
        session.add(week)
        session.commit()
    report = call(client, world, "coord1", "GET", f"/weeks/{week.id}/report").json()
    section = next(s for s in report["sections"] if s["key"] == "sponsorship")
    assert section["available"] is True
    figures = {f["key"]: f["value"] for f in section["figures"]}

    def summed(approved: bool) -> float:
        return float(session.scalar(
            select(func.coalesce(func.sum(HoursLog.hours), 0.0))
            .join(Engagement, Engagement.id == HoursLog.engagement_id)
            .where(Engagement.organisation_id == world.ids["team1"],
                   Engagement.offer_id.is_not(None),
                   HoursLog.worked_on >= monday,
                   HoursLog.worked_on <= monday + timedelta(days=6),
                   (HoursLog.approved_at.is_not(None) if approved
                    else HoursLog.approved_at.is_(None)))) or 0.0)

    assert figures["sponsorship_hours"] == pytest.approx(summed(True)) == 1
    assert figures["pending_hours"] == pytest.approx(summed(False)) == 1
    cost = session.scalar(select(Organisation.hourly_cost).where(
        Organisation.id == world.ids["company1"]))
    assert figures["value_eur"] == pytest.approx(1 * (cost or 0.0))
    hood = session.scalar(select(Neighbourhood.name).join(
        Project, Project.neighbourhood_id == Neighbourhood.id).where(
        Project.id == uuid.UUID(engagement["project_id"])))
    assert [(r["neighbourhood"], r["sponsorship_hours"], r["pending_hours"])
            for r in section["rows"]] == [(hood, 1, 1)]
    english = call(client, world, "coord1", "GET", f"/weeks/{week.id}/report",
                   **{"Accept-Language": "en"}).json()
    assert next(s for s in english["sections"] if s["key"] == "sponsorship")[
        "title"] == "Hours of skills sponsorship"
