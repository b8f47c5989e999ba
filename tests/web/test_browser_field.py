"""The field on a phone, in Chromium on the demo data: the volunteer's open rounds, their round
sheet and the association's point page fit a 390 px and a 360 px screen with every primary
action reachable; marks taken offline survive a reload served by the service worker and
reach the server exactly once; a stop's navigation link is https with its coordinates."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web.browser import TILE_PATTERN, TILE_PNG, Console, LiveServer, login, watch
from tests.web.field_data import planned_demo_week
from tests.web.test_browser import ASSOCIATION, VOLUNTEER, shot

# Every visible primary action: fully on screen once scrolled into view, at least 44 px tall,
# and the page never scrolled sideways. Measured against the phone's own width: a mobile
# browser zooms out a page wider than the screen, and innerWidth then grows with it.
CHECK_LAYOUT = """([width, height]) => {
  const problems = [];
  if (window.innerWidth !== width || window.innerHeight !== height) {
    problems.push("viewport " + window.innerWidth + "x" + window.innerHeight);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push("page " + document.documentElement.scrollWidth + " px wide");
  }
  const actions = [...document.querySelectorAll("[data-primary]")]
    .filter((el) => el.checkVisibility({ visibilityProperty: true }));
  for (const el of actions) {
    el.scrollIntoView({ block: "center", inline: "nearest" });
    const box = el.getBoundingClientRect();
    const name = (el.getAttribute("aria-label") || el.textContent).trim();
    if (box.left < 0 || box.right > width || box.top < 0 || box.bottom > height) {
      problems.push(name + " outside the screen " + JSON.stringify(box));
    }
    if (box.height < 44) { problems.push(name + " only " + box.height + " px tall"); }
    if (window.scrollX !== 0) { problems.push("scrolled sideways to show " + name); }
  }
  return { problems: problems, actions: actions.length };
}"""


@dataclass(frozen=True)
class Field:
    week_id: uuid.UUID
    round_id: uuid.UUID  # driven by the demo volunteer
    stops: list[tuple[uuid.UUID, float, float]]  # in order: id, lat, lon
    point_id: uuid.UUID  # the demo association's point with the most baskets
    database_url: str


@pytest.fixture(scope="module")
def field(live_server: LiveServer) -> Iterator[Field]:
    """The demo week planned ahead of now, one round of three stops or more driven by the
    demo volunteer (the others still open), and the association's busiest point."""
    from baskets.accounts.models import User
    from baskets.allocation.models import AllocatedBasket
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.rounds.models import Round, RoundStatus, RoundStop
    from baskets.territory.models import DistributionPoint
    from baskets.volunteers.models import Volunteer

    with planned_demo_week(live_server.database_url) as planned:
        engine = make_engine(live_server.database_url)
        with unit_of_work(make_session_factory(engine)) as session:
            volunteer = session.scalars(select(Volunteer).join(User).where(
                User.email == VOLUNTEER)).one()
            counts = dict(session.execute(
                select(RoundStop.round_id, func.count()).join(Round)
                .where(Round.week_id == planned.week_id, Round.vehicle_owner_id.is_(None))
                .group_by(RoundStop.round_id)).all())
            driven = session.get(Round, next(r for r, n in sorted(
                counts.items(), key=lambda kv: str(kv[0])) if n >= 3))
            assert driven is not None
            driven.driver_id = volunteer.id
            driven.status = RoundStatus.claimed
            driven.claimed_at = datetime.now(UTC)
            stops = [(s.id, s.lat, s.lon) for s in session.scalars(
                select(RoundStop).where(RoundStop.round_id == driven.id)
                .order_by(RoundStop.position))]
            organisation = session.scalars(select(User.organisation_id).where(
                User.email == ASSOCIATION)).one()
            point_id = session.scalars(
                select(AllocatedBasket.distribution_point_id)
                .join(DistributionPoint,
                      DistributionPoint.id == AllocatedBasket.distribution_point_id)
                .where(AllocatedBasket.week_id == planned.week_id,
                       DistributionPoint.organisation_id == organisation)
                .group_by(AllocatedBasket.distribution_point_id)
                .order_by(func.count().desc())).first()
            assert point_id is not None
            round_id = driven.id
        engine.dispose()
        yield Field(planned.week_id, round_id, stops, point_id, live_server.database_url)


def _phone(browser: Any, console: Console, width: int, height: int) -> Any:
    context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    context.route(TILE_PATTERN, lambda route: route.fulfill(
        status=200, content_type="image/png", body=TILE_PNG))
    return context


def _layout(page: Any) -> int:
    viewport = page.viewport_size
    found = page.evaluate(CHECK_LAYOUT, [viewport["width"], viewport["height"]])
    assert found["problems"] == [], (page.url, found["problems"][:5])
    return int(found["actions"])


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 740)])
def test_the_field_pages_fit_a_phone(browser: Any, live_server: LiveServer, field: Field,
                                     tmp_path: Path, width: int, height: int) -> None:
    """At 390x844 and 360x740: open rounds, the round sheet and the point page never scroll
    sideways, and every primary action ("Prendre", "Fait", "Problème", "Retiré") is at
    least 44 px tall and fully on screen once scrolled to; the stop's navigation link is an
    https link with its coordinates (plus geo: for Android)."""
    base = live_server.base_url
    console = Console()
    context = _phone(browser, console, width, height)
    page = context.new_page()
    watch(page, console)
    login(page, base, VOLUNTEER)
    page.goto(base + "/rounds")
    assert _layout(page) >= 2  # the sheet's link and at least one "Prendre cette tournée"
    assert page.get_by_role("button", name=re.compile(r"^Prendre la tournée n° \d+$")).count()
    shot(page, tmp_path, f"open-rounds-{width}")
    page.goto(f"{base}/rounds/{field.round_id}")
    page.locator("[data-routes-drawn='1']").wait_for()
    assert _layout(page) >= 2  # "Fait" and "Problème" of the stop to do
    assert page.get_by_role("button", name="Étape 1 faite", exact=True).is_visible()
    first, lat, lon = field.stops[0]
    link = page.locator(f"#etape-{first} a[data-navigation]")
    href = link.get_attribute("href") or ""
    assert href.startswith("https://")
    assert f"{lat:.6f},{lon:.6f}" in href
    geo = page.locator(f"#etape-{first} a[href^='geo:']").get_attribute("href") or ""
    assert geo.startswith(f"geo:{lat:.6f},{lon:.6f}")
    assert page.locator(".marker-number").count() >= 2
    shot(page, tmp_path, f"round-sheet-{width}")
    context.close()

    context = _phone(browser, console, width, height)
    page = context.new_page()
    watch(page, console)
    login(page, base, ASSOCIATION)
    page.goto(f"{base}/points/{field.point_id}?week={field.week_id}")
    assert _layout(page) >= 20  # one "Retiré" per basket
    assert re.search(r"\d+ / \d+", page.locator(".counter").inner_text())
    # The top of it: the whole list of a hundred households is too tall a picture.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / f"point-{width}.png"))
    context.close()
    assert console.errors == []


def _offline_on(browser: Any, console: Console, base: str, email: str, path: str
                ) -> tuple[Any, Any]:
    """A phone logged in as `email` on `path`, held by the service worker, then cut off the
    network; its context and page."""
    context = _phone(browser, console, 390, 844)
    page = context.new_page()
    watch(page, console)
    login(page, base, email)
    page.goto(base + path)
    _offline_ready(page)
    context.set_offline(True)
    return context, page


def _offline_ready(page: Any) -> None:
    """Wait for the service worker, reload under its control, and wait until it holds the
    page for when there is no network."""
    page.locator("html[data-offline-ready]").wait_for(state="attached")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("""() => navigator.serviceWorker.controller &&
        caches.open("baskets-pages").then((c) => c.match(location.href)).then((r) => !!r)""")


def _keys(page: Any) -> list[str]:
    return page.evaluate("""() => Object.keys(localStorage).filter((k) => k.startsWith(
        "baskets.queue.")).flatMap((k) => JSON.parse(localStorage.getItem(k)).map(
        (e) => e.key))""")


def _server_marks(field: Field, basket_point: uuid.UUID) -> dict[str, Any]:
    from baskets.allocation.models import AllocatedBasket
    from baskets.common.models import IdempotencyRecord
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.rounds.models import RoundStop

    engine = make_engine(field.database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        stops = [(s.id, s.status.value, s.done_at) for s in session.scalars(
            select(RoundStop).where(RoundStop.round_id == field.round_id)
            .order_by(RoundStop.position))]
        baskets = [(b.id, b.collected, b.collected_at) for b in session.scalars(
            select(AllocatedBasket).where(AllocatedBasket.week_id == field.week_id,
                                          AllocatedBasket.collected.is_not(None)))]
        records = session.scalar(select(func.count()).select_from(IdempotencyRecord))
    engine.dispose()
    return {"stops": stops, "baskets": baskets, "records": records}


def test_marks_taken_offline_reach_the_server_once(browser: Any, live_server: LiveServer,
                                                   field: Field, tmp_path: Path) -> None:
    """Offline, the driver marks two stops done and the association a basket collected; a
    reload (still offline) is served by the service worker and still shows them waiting;
    back online they are sent: the server holds exactly those three marks, and sending the
    same queue again stores nothing more."""
    base = live_server.base_url
    # Offline, the map's tiles and the queue's first tries fail: that is the point.
    console = Console(allow=[r"ERR_INTERNET_DISCONNECTED"])
    before = _server_marks(field, field.point_id)
    assert all(status == "pending" for _id, status, _at in before["stops"])
    assert before["baskets"] == []

    driver_context, driver = _offline_on(browser, console, base, VOLUNTEER,
                                         f"/rounds/{field.round_id}")
    driver.get_by_role("button", name="Étape 1 faite", exact=True).click()
    driver.get_by_role("button", name="Étape 2 faite", exact=True).click()
    status = driver.get_by_role("status").filter(has_text="attendent d'être envoyées")
    assert "2 marques attendent d'être envoyées" in status.inner_text()
    response = driver.reload()
    assert response is not None
    assert response.from_service_worker
    assert "2 marques attendent d'être envoyées" in driver.locator(
        "[data-queue-status]").inner_text()
    assert driver.locator(f"#etape-{field.stops[0][0]}").get_attribute(
        "data-state") == "done"
    assert "en attente d'envoi" in driver.locator(
        f"#etape-{field.stops[1][0]} [data-state-label]").inner_text()
    shot(driver, tmp_path, "offline-sheet")

    point_context, point = _offline_on(browser, console, base, ASSOCIATION,
                                       f"/points/{field.point_id}?week={field.week_id}")
    first_card = point.locator("li.household[data-basket]").first
    reference = first_card.locator(".household-head strong").inner_text()
    basket_id = first_card.get_attribute("data-basket")
    counter = point.locator("[data-collected]").inner_text()
    point.get_by_label("Chercher un foyer (référence ou nom)").fill(reference)
    assert point.locator("li.household:visible").count() == 1
    point.get_by_role("button", name=f"Marquer le panier de {reference} comme retiré").click()
    assert int(point.locator("[data-collected]").inner_text()) == int(counter) + 1
    response = point.reload()
    assert response is not None
    assert response.from_service_worker
    assert "1 marque attend d'être envoyée" in point.locator("[data-queue-status]").inner_text()
    keys = _keys(driver) + _keys(point)
    assert len(keys) == 3
    assert _server_marks(field, field.point_id) == before  # nothing sent yet

    driver_context.set_offline(False)
    point_context.set_offline(False)
    for page in (driver, point):
        page.get_by_role("status").filter(has_text="Tout est envoyé.").wait_for()
    after = _server_marks(field, field.point_id)
    assert [status for _id, status, _at in after["stops"]][:2] == ["done", "done"]
    assert all(status == "pending" for _id, status, _at in after["stops"][2:])
    assert [(str(b), collected) for b, collected, _at in after["baskets"]] == [
        (basket_id, True)]
    assert after["records"] == before["records"] + 3

    # The same three marks sent again with their keys: answered, and nothing changes.
    replays = [
        (driver, f"/rounds/{field.round_id}/stops/{field.stops[0][0]}/done", keys[0], {}),
        (driver, f"/rounds/{field.round_id}/stops/{field.stops[1][0]}/done", keys[1], {}),
        (point, f"/baskets/{basket_id}/collected", keys[2], {"collected": "yes"}),
    ]
    for page, url, key, fields in replays:
        answer = page.evaluate("""([url, key, fields]) => {
            const body = new FormData();
            Object.entries(fields).forEach(([k, v]) => body.append(k, v));
            body.append("csrf_token", document.querySelector("input[name=csrf_token]").value);
            return fetch(url, {method: "POST", body: body, headers: {
                "Idempotency-Key": key, "Accept": "application/json"}})
              .then((r) => ({status: r.status, replayed: r.headers.get("Idempotent-Replayed")}));
        }""", [url, key, fields])
        assert answer == {"status": 200, "replayed": "true"}, (url, answer)
    assert _server_marks(field, field.point_id) == after
    driver_context.close()
    point_context.close()
    assert console.errors == []
