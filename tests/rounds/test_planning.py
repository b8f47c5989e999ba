"""Planning a week's rounds from its allocation: what is stored, re-plans, drivers, export."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.allocation.models import AllocatedBasket
from baskets.config import Settings
from baskets.jobs.models import Job
from baskets.rounds.models import Round, RoundPlan, RoundStatus
from baskets.supply.models import Product, SupplyLot
from baskets.volunteers.models import Vehicle, Volunteer
from tests.rounds.conftest import plan, run_job
from tests.world import World


def _allocated_kg(session: Session, week_id: uuid.UUID) -> tuple[float, dict[str, float]]:
    per_point: dict[str, float] = defaultdict(float)
    total = 0.0
    for basket in session.scalars(select(AllocatedBasket).where(
            AllocatedBasket.week_id == week_id)):
        for item in basket.items:
            total += item["kg"]
            per_point[str(basket.distribution_point_id)] += item["kg"]
    return total, per_point


def test_every_allocated_kg_is_picked_up_and_delivered_or_reported(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """Pick-ups add up to the allocated kg and deliveries to each point's kg, counting the
    unserved; no round is over its vehicle's capacity; arrivals keep the windows."""
    body = plan(client, world, week)
    total, per_point = _allocated_kg(session, week)
    assert total > 0
    unserved_pick = sum(u["kg"] for u in body["unserved"] if u["kind"] == "pickup")
    unserved_del = defaultdict(float)
    for u in body["unserved"]:
        if u["kind"] == "delivery":
            unserved_del[str(u["distribution_point_id"])] += u["kg"]
    picked = sum(s["kg_loaded"] for r in body["rounds"] for s in r["stops"]
                 if s["kind"] == "pickup")
    assert picked + unserved_pick == pytest.approx(total, abs=0.1)
    delivered: dict[str, float] = defaultdict(float)
    for r in body["rounds"]:
        assert r["peak_load_kg"] <= r["capacity_kg"] + 1e-6
        for s in r["stops"]:
            assert s["load_after_kg"] <= r["capacity_kg"] + 1e-6
            if s["kind"] == "delivery":
                delivered[str(s["distribution_point_id"])] += s["kg_delivered"]
            if s["kind"] != "hub":
                assert datetime.fromisoformat(s["arrival_at"]) <= datetime.fromisoformat(
                    s["window_end"])
        positions = [s["position"] for s in r["stops"]]
        assert positions == list(range(1, len(positions) + 1))
    for point, kg in per_point.items():
        assert delivered[point] + unserved_del[point] == pytest.approx(kg, abs=0.1)
    assert body["metrics"]["rounds"] == len(body["rounds"]) > 0


def test_perishable_produce_rides_refrigerated(client: TestClient, world: World,
                                               session: Session, week: uuid.UUID) -> None:
    """The strawberries (3 days' shelf life) are only loaded in refrigerated vehicles."""
    body = plan(client, world, week)
    name = session.scalar(select(Product.name).join(SupplyLot).where(
        SupplyLot.week_id == week, Product.shelf_life_days == 3))
    carried = [r for r in body["rounds"]
               if any(i["product"] == name for s in r["stops"] for i in s["items"]
                      if s["kg_loaded"] > 0)]
    assert carried, "the strawberries travel"
    assert all(r["refrigerated"] for r in carried)


def test_plan_again_replaces_and_get_reads_it(client: TestClient, world: World,
                                              session: Session, week: uuid.UUID) -> None:
    """Planning twice leaves one plan; GET answers what POST stored; English messages."""
    first = plan(client, world, week)
    second_plan = run_job(client, world, f"/weeks/{week}/rounds", {"time_limit": 1})
    second = client.get(second_plan["url"], headers=world.auth("coord1")).json()
    assert first["id"] != second["id"] == second_plan["plan_id"]
    read = client.get(f"/api/v1/weeks/{week}/rounds",
                      headers={**world.auth("coord1"), "Accept-Language": "en"}).json()
    assert read["id"] == second["id"]
    assert [r["id"] for r in read["rounds"]] == [r["id"] for r in second["rounds"]]
    stored = session.scalars(select(Round).where(Round.week_id == week)).all()
    assert len(stored) == len(second["rounds"])


def test_plan_without_allocation_is_refused(client: TestClient, world: World,
                                            week: uuid.UUID) -> None:
    """Rounds start from the allocation: without one, 422 in French at once, no job."""
    response = client.post(f"/api/v1/weeks/{week}/rounds", json={"time_limit": 1},
                           headers=world.auth("coord1"))
    assert response.status_code == 422
    assert "Allouez" in response.json()["error"]["message"]
    listed = client.get("/api/v1/jobs?kind=rounds", headers=world.auth("coord1")).json()
    assert listed["total"] == 0


def _refs(round_: dict) -> list[str]:  # type: ignore[type-arg]
    return [f"{s['kind']}:{s['name']}:{s['kg_loaded']}:{s['kg_delivered']}"
            for s in round_["stops"] if s["kind"] != "hub"]


def test_replan_without_a_vehicle_keeps_the_other_rounds(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """After the van drops out its rounds are cancelled, no remaining round uses it, and each
    other round keeps its stops in the same relative order."""
    body = plan(client, world, week)
    van = session.scalar(select(Vehicle).where(Vehicle.organisation_id == world.ids["team1"],
                                               Vehicle.name == "A Fourgon"))
    assert van is not None
    ref = f"van:{van.id}"
    before = {r["id"]: _refs(r) for r in body["rounds"] if r["vehicle_ref"] != ref}
    replanned = run_job(client, world, f"/weeks/{week}/rounds/replan",
                        {"vehicle": ref, "time_limit": 2})
    assert replanned["vehicle"] == ref
    after = client.get(replanned["url"], headers=world.auth("coord1")).json()
    assert all(r["vehicle_ref"] != ref for r in after["rounds"])
    for r in after["rounds"]:
        if r["id"] in before:
            kept = [x for x in _refs(r) if x in before[r["id"]]]
            assert kept == before[r["id"]]
    total, _ = _allocated_kg(session, week)
    picked = sum(s["kg_loaded"] for r in after["rounds"] for s in r["stops"]
                 if s["kind"] == "pickup")
    unserved = sum(u["kg"] for u in after["unserved"] if u["kind"] == "pickup")
    assert picked + unserved == pytest.approx(total, abs=0.1)
    unknown = client.post(f"/api/v1/weeks/{week}/rounds/replan",
                          json={"vehicle": "van:nothing"}, headers=world.auth("coord1"))
    assert unknown.status_code == 422


def test_drivers_assigned_with_reasons_and_replacements(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """The only volunteer gets a round with reasons; excluding them leaves it unassigned with
    reasons; replacements list them for an open round."""
    body = plan(client, world, week)
    volunteer = session.scalar(select(Volunteer).where(
        Volunteer.user_id == world.ids["user_volunteer1"]))
    assert volunteer is not None
    van_rounds = [r for r in body["rounds"] if r["vehicle_ref"].startswith("van:")]
    assert van_rounds
    target = van_rounds[0]["id"]
    candidates = client.get(f"/api/v1/rounds/{target}/replacements",
                            headers=world.auth("coord1")).json()
    assert [c["volunteer_id"] for c in candidates] == [str(volunteer.id)]
    assert candidates[0]["reasons"]
    result = run_job(client, world, f"/weeks/{week}/drivers",
                     {"excludes": [{"round_id": target, "volunteer_id": str(volunteer.id)}],
                      "time_limit": 2})
    assert target in {u["round_id"] for u in result["unassigned"]}
    assert all(u["reasons"] for u in result["unassigned"])
    assert target not in {a["round_id"] for a in result["assignments"]}
    assert all(a["reasons"] and a["volunteer_id"] == str(volunteer.id)
               for a in result["assignments"])
    session.expire_all()
    driven = session.scalars(select(Round).where(Round.driver_id == volunteer.id)).all()
    assert {str(r.id) for r in driven} == {a["round_id"] for a in result["assignments"]}
    assert all(r.status is RoundStatus.claimed for r in driven)


def test_rounds_export_escapes_formulas(client: TestClient, world: World,
                                        week: uuid.UUID) -> None:
    """The CSV has one row per stop and the farm named '=Mas des Pins' comes out escaped;
    the XLSX opens."""
    import io

    import openpyxl

    body = plan(client, world, week)
    csv = client.get(f"/api/v1/weeks/{week}/exports/rounds", headers=world.auth("coord1"))
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert len(lines) == 1 + sum(len(r["stops"]) for r in body["rounds"])
    if any(s["name"] == "=Mas des Pins" for r in body["rounds"] for s in r["stops"]):
        assert "'=Mas des Pins" in text
    assert ";=Mas" not in text
    xlsx = client.get(f"/api/v1/weeks/{week}/exports/rounds?format=xlsx",
                      headers=world.auth("coord1"))
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.active is not None
    assert book.active.max_row == len(lines)


def test_loads_larger_than_any_vehicle_are_split(client: TestClient, world: World,
                                                 session: Session, week: uuid.UUID) -> None:
    """With every vehicle holding 15 kg, no stop hands over more than 15 kg and the kg still
    add up."""
    for vehicle in session.scalars(select(Vehicle).where(
            Vehicle.organisation_id == world.ids["team1"])):
        vehicle.capacity_kg = 15
    for volunteer in session.scalars(select(Volunteer).where(
            Volunteer.organisation_id == world.ids["team1"])):
        volunteer.capacity_kg = 15
    session.commit()
    body = plan(client, world, week)
    total, _ = _allocated_kg(session, week)
    picked = 0.0
    for r in body["rounds"]:
        assert r["peak_load_kg"] <= 15 + 1e-6
        for s in r["stops"]:
            if s["kind"] == "pickup":
                picked += s["kg_loaded"]
    unserved = sum(u["kg"] for u in body["unserved"] if u["kind"] == "pickup")
    assert all(u["kg"] <= 15 + 1e-6 for u in body["unserved"])
    assert picked + unserved == pytest.approx(total, abs=0.1)
    visits = sum(1 for r in body["rounds"] for s in r["stops"] if s["kind"] == "pickup")
    assert visits + sum(1 for u in body["unserved"] if u["kind"] == "pickup") >= total / 15


def test_point_closed_after_the_pickups_is_reported(client: TestClient, world: World,
                                                    session: Session, week: uuid.UUID) -> None:
    """A point that only opens on Monday morning, before the produce is collected, is reported
    unserved with the reason 'point_closed' and its whole kg."""
    from baskets.territory.models import DistributionPoint

    point = session.get(DistributionPoint, world.ids["point1b"])
    assert point is not None
    point.opening_hours = [{"weekday": 0, "opens": "06:00", "closes": "07:00"}]
    session.commit()
    body = plan(client, world, week)
    _, per_point = _allocated_kg(session, week)
    closed = [u for u in body["unserved"] if u["reason"] == "point_closed"]
    assert {u["distribution_point_id"] for u in closed} == {str(world.ids["point1b"])}
    assert sum(u["kg"] for u in closed) == pytest.approx(per_point[str(world.ids["point1b"])],
                                                         abs=0.1)
    assert all(u["message"] for u in closed)


def test_plan_from_the_week_page_is_a_job(client: TestClient, world: World, settings: Settings,
                                          session: Session, week: uuid.UUID) -> None:
    """The week page's button starts the planning job and leads to its progress page, whose
    link goes back to the week's rounds; the plan is stored. A week without allocation comes
    back to the week page with the French reason, and no job."""
    from tests.web.test_pages import csrf_of, login_as

    login_as(client, settings, world, "coord1")
    token = csrf_of(client, f"/weeks/{week}")
    refused = client.post(f"/weeks/{week}/rounds", data={"csrf_token": token},
                          follow_redirects=True)
    assert "Allouez d&#39;abord la semaine" in refused.text or "Allouez d'abord" in refused.text
    assert session.scalar(select(Job.id).where(Job.kind == "rounds")) is None
    allocated = client.post(f"/api/v1/weeks/{week}/allocation", json={"time_limit": 3},
                            headers=world.auth("coord1"))
    assert allocated.status_code == 202
    started = client.post(f"/weeks/{week}/rounds", data={"csrf_token": token},
                          follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"]
    assert job_url.startswith("/jobs/")
    shown = client.get(job_url)
    assert "Planification des tournées" in shown.text
    assert f'href="/weeks/{week}#tournees" data-job-done-link' in shown.text
    state = client.get(f"{job_url}/progress").json()
    assert state["status"] == "succeeded"
    session.expire_all()
    plan_row = session.scalar(select(RoundPlan).where(RoundPlan.week_id == week))
    assert plan_row is not None
    assert plan_row.metrics["rounds"] == len(session.scalars(
        select(Round).where(Round.plan_id == plan_row.id)).all())
    # The job's answer in a line: the figures of the stored plan.
    expected = (f"{plan_row.metrics['rounds']} tournées, {round(plan_row.metrics['km'])} km, "
                f"{plan_row.metrics['unserved']} étapes non desservies.")
    assert state["summary"] == expected
    assert expected in client.get(job_url).text
    # Then the drivers: a job too, with its own line.
    page = client.get(f"/weeks/{week}")
    assert 'action="/weeks/' + str(week) + '/drivers"' in page.text
    staffed = client.post(f"/weeks/{week}/drivers", data={"csrf_token": token},
                          follow_redirects=False)
    assert staffed.status_code == 303
    drivers_state = client.get(f"{staffed.headers['location']}/progress").json()
    assert drivers_state["status"] == "succeeded"
    assigned = len(session.scalars(select(Round).where(
        Round.plan_id == plan_row.id, Round.driver_id.is_not(None))).all())
    assert drivers_state["summary"].startswith(
        f"{assigned} tournées confiées à un chauffeur bénévole")


def test_weekly_report_km_agree_with_the_stored_rounds(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """The report's kilometres, rounds, hours and stops not served are sums over the stored
    rounds (cancelled ones left out); after a re-plan they follow."""
    from sqlalchemy import func

    from baskets.rounds.models import UnservedStop

    def report_km() -> dict:  # type: ignore[type-arg]
        body = client.get(f"/api/v1/weeks/{week}/report", headers=world.auth("coord1")).json()
        return next(s for s in body["sections"] if s["key"] == "km")  # type: ignore[no-any-return]

    assert report_km()["available"] is False
    body = plan(client, world, week)
    for attempt in ("planned", "replanned"):
        session.expire_all()
        section = report_km()
        assert section["available"] is True, attempt
        figures = {f["key"]: f["value"] for f in section["figures"]}
        live = (Round.week_id == week, Round.status != RoundStatus.cancelled)
        assert figures["km"] == pytest.approx(
            session.scalar(select(func.sum(Round.km)).where(*live)), abs=0.05)
        assert figures["rounds"] == session.scalar(
            select(func.count()).select_from(Round).where(*live))
        assert figures["hours"] == pytest.approx(
            session.scalar(select(func.sum(Round.duration_min)).where(*live)) / 60, abs=0.05)
        assert figures["unserved"] == session.scalar(
            select(func.count()).select_from(UnservedStop).join(
                RoundPlan, RoundPlan.id == UnservedStop.plan_id).where(RoundPlan.week_id == week))
        assert sum(r["km"] for r in section["rows"]) == pytest.approx(figures["km"], abs=0.5)
        van = next(r["vehicle_ref"] for r in body["rounds"]
                   if r["vehicle_ref"].startswith("van:"))
        if attempt == "planned":
            run_job(client, world, f"/weeks/{week}/rounds/replan",
                    {"vehicle": van, "time_limit": 1})


def test_whole_replan_keeps_claims_and_refuses_once_driving_started(
        client: TestClient, world: World, session: Session, week: uuid.UUID) -> None:
    """Planning the week again keeps a volunteer's claim on the round of the same vehicle and
    day; once a stop is done, planning the whole week again is refused at once (409)."""
    body = plan(client, world, week)
    target = next(r for r in body["rounds"] if r["vehicle_ref"].startswith("van:"))
    claimed = client.post(f"/api/v1/rounds/{target['id']}/claim",
                          headers=world.auth("volunteer1"))
    assert claimed.status_code == 200, claimed.text
    again = run_job(client, world, f"/weeks/{week}/rounds", {"time_limit": 1, "seed": 2})
    assert again["metrics"]["claims_kept"] == 1
    assert again["metrics"]["claims_dropped"] == 0
    session.expire_all()
    volunteer = session.scalar(select(Volunteer).where(
        Volunteer.user_id == world.ids["user_volunteer1"]))
    assert volunteer is not None
    driven = session.scalars(select(Round).where(Round.week_id == week,
                                                 Round.driver_id == volunteer.id)).all()
    assert [(r.day, r.vehicle_ref, r.status) for r in driven] == [
        (target["day"], target["vehicle_ref"], RoundStatus.claimed)]
    mine = client.get("/api/v1/rounds/mine", headers=world.auth("volunteer1")).json()
    stop = client.get(f"/api/v1/rounds/{mine[0]['id']}/sheet",
                      headers=world.auth("volunteer1")).json()["stops"][0]
    done = client.post(f"/api/v1/rounds/{mine[0]['id']}/stops/{stop['id']}/done", json={},
                       headers=world.auth("volunteer1"))
    assert done.status_code == 200, done.text
    refused = client.post(f"/api/v1/weeks/{week}/rounds", json={"time_limit": 1},
                          headers=world.auth("coord1"))
    assert refused.status_code == 409
    assert "sans un véhicule" in refused.json()["error"]["message"]
