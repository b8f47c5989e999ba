"""End to end in Debian's Chromium on the demo data: one main task per front door, the map
without tiles, and a phone-sized page. Each test saves a screenshot in its tmp_path and fails
on any console error (see conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.web.browser import TILE_PATTERN, Console, LiveServer, login

COORDINATOR = "coordination@amp.demo"
ASSOCIATION = "accueil@entraide-nord-littoral.demo"
VOLUNTEER = "benevole@amp.demo"
COMPANY = "rse@calanques-expertise.demo"


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def test_coordinator_enters_a_lot(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    """A coordinator opens this week's supply, enters a lot and sees it counted."""
    base = live_server.base_url
    login(page, base, COORDINATOR)
    page.get_by_role("link", name="Saisir l'approvisionnement").click()
    heading = page.get_by_role("heading", name=re.compile(r"Lots saisis \(\d+\)"))
    before = int(re.search(r"\((\d+)\)", heading.inner_text()).group(1))  # type: ignore[union-attr]
    page.get_by_label(re.compile(r"^Producteur\b")).select_option(label="Mas des Alpilles Bio")
    page.get_by_label(re.compile(r"^Produit\b")).select_option(label="Courge butternut")
    page.get_by_label("Quantité (kg)").fill("42,5")
    page.get_by_label("Prix (€/kg)").fill("1,90")
    page.get_by_role("button", name="Enregistrer le lot").click()
    page.get_by_role("status").filter(has_text="Lot enregistré.").wait_for()
    assert page.get_by_role("heading", name=f"Lots saisis ({before + 1})").is_visible()
    assert page.get_by_role("cell", name="42,5").first.is_visible()
    shot(page, tmp_path, "coordinator-lot")


def test_week_map_draws_markers_even_without_tiles(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    """With every tile request refused, the week page still draws its farm and point markers."""
    console = Console(allow=[r"tiles\.invalid", r"Failed to load resource: net::ERR_FAILED"])
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.route(TILE_PATTERN, lambda route: route.abort())
    page = context.new_page()
    from tests.web.browser import watch

    watch(page, console)
    login(page, live_server.base_url, COORDINATOR)
    page.get_by_role("link", name="Voir la semaine").click()
    page.locator("[data-markers-drawn]").wait_for()
    drawn = int(page.locator("[data-map]").get_attribute("data-markers-drawn") or 0)
    assert drawn > 20
    assert page.locator("path.marker-farm").count() > 10
    assert page.locator("path.marker-point").count() > 5
    shot(page, tmp_path, "week-map-no-tiles")
    context.close()
    assert console.errors == []


def allocate_demo_week(database_url: str, coordinator_email: str) -> None:
    """Allocate the coordinator's draft week through the service, committed (test setup)."""
    from sqlalchemy import select

    from baskets.accounts.models import Organisation, User
    from baskets.allocation.service import allocate_week
    from baskets.common.scope import Actor
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.weeks.models import Week, WeekStatus

    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            user = session.scalars(select(User).where(User.email == coordinator_email)).one()
            organisation = session.get(Organisation, user.organisation_id)
            assert organisation is not None
            week = session.scalars(select(Week).where(
                Week.organisation_id == organisation.id,
                Week.status.in_([WeekStatus.draft, WeekStatus.allocated]))).first()
            assert week is not None
            allocate_week(session, actor=Actor(user=user, organisation=organisation),
                          week_id=week.id, time_limit=3, seed=1)
    finally:
        engine.dispose()


def test_association_registers_a_household(page: Any, live_server: LiveServer,
                                           tmp_path: Path) -> None:
    """An association registers a household, finds it in its list, and after the week's
    allocation sees its basket on its point's packing page and marks it collected."""
    base = live_server.base_url
    login(page, base, ASSOCIATION)
    page.get_by_role("link", name="Foyers", exact=True).click()
    page.get_by_role("link", name="Inscrire un foyer").click()
    page.get_by_label("Référence").fill("E2E-0001")
    page.get_by_label("Nom du contact").fill("Mariam K.")
    page.get_by_label("Adultes").fill("2")
    page.get_by_label("Enfants").fill("3")
    page.get_by_label("Quartier").select_option(index=1)
    page.get_by_label(re.compile(r"^Point de distribution\b")).select_option(index=1)
    page.get_by_label("Œufs").check()
    page.get_by_label("Motif d'orientation").select_option(label="Famille monoparentale")
    page.get_by_role("button", name="Inscrire le foyer").click()
    page.get_by_role("status").filter(has_text="Foyer E2E-0001 inscrit.").wait_for()
    row = page.get_by_role("row").filter(has_text="E2E-0001")
    assert row.count() == 1
    assert "Mariam K." in row.inner_text()
    shot(page, tmp_path, "association-household")
    point = row.get_by_role("cell").nth(4).inner_text().strip()
    allocate_demo_week(live_server.database_url, COORDINATOR)
    page.get_by_role("link", name="Points de distribution").first.click()
    page.get_by_role("link", name=point, exact=True).click()
    page.get_by_role("heading", name="Liste de colisage").wait_for()
    basket = page.locator("li.household").filter(has_text="E2E-0001")
    assert re.search(r"\d+(,\d)? kg", basket.inner_text()), basket.inner_text()
    assert "Sans : Œufs" in basket.inner_text()
    basket.get_by_role("button", name="Marquer le panier de E2E-0001 comme retiré").click()
    page.get_by_role("status").filter(has_text="Tout est envoyé.").wait_for()
    assert basket.get_attribute("data-state") == "collected"
    page.reload()
    basket = page.locator("li.household").filter(has_text="E2E-0001")
    assert basket.locator("[data-state-label]").inner_text() == "Retiré"
    shot(page, tmp_path, "association-basket")


def test_coordinator_reads_the_weekly_report(page: Any, live_server: LiveServer,
                                             tmp_path: Path) -> None:
    """The week's report draws its SVG charts (no script, no console error), downloads as
    XLSX and prints on A4."""
    base = live_server.base_url
    login(page, base, COORDINATOR)
    page.get_by_role("link", name="Voir la semaine").click()
    page.get_by_role("link", name="Rapport de la semaine").click()
    page.get_by_role("heading", name="Sommes payées aux producteurs").wait_for()
    assert page.locator("figure.chart-figure svg rect").count() > 5
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le classeur (XLSX)").click()
    assert download.value.suggested_filename.startswith("rapport-")
    shot(page, tmp_path, "coordinator-report")
    page.emulate_media(media="print")
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_volunteer_edits_availability(page: Any, live_server: LiveServer,
                                      tmp_path: Path) -> None:
    """A volunteer adds a Saturday morning to their availability and sees it kept."""
    base = live_server.base_url
    login(page, base, VOLUNTEER)
    page.get_by_role("link", name="Mon profil", exact=True).click()
    page.get_by_label("samedi, créneau 1, début").fill("09:30")
    page.get_by_label("samedi, créneau 1, fin").fill("12:00")
    page.get_by_role("button", name="Enregistrer mon profil").click()
    page.get_by_role("status").filter(has_text="Profil enregistré.").wait_for()
    assert page.get_by_label("samedi, créneau 1, début").input_value() == "09:30"
    page.get_by_role("link", name="Tableau de bord").click()
    assert "samedi 09:30–12:00" in page.locator("dl.facts").inner_text()
    shot(page, tmp_path, "volunteer-availability")


def test_company_creates_an_offer(page: Any, live_server: LiveServer, tmp_path: Path) -> None:
    """A company publishes a skills-sponsorship offer and sees it in its list."""
    base = live_server.base_url
    login(page, base, COMPANY)
    page.get_by_role("link", name="Offres de mécénat").click()
    page.get_by_role("link", name="Publier une offre").click()
    page.get_by_label("Titre de l'offre").fill("Ateliers de gestion de budget")
    page.get_by_label("Compétence 1").fill("accounting")
    page.get_by_label("Niveau 1").select_option("4")
    page.get_by_label("Heures offertes").fill("30")
    page.get_by_label("À distance").check()
    page.get_by_role("button", name="Publier l'offre").click()
    page.get_by_role("status").filter(has_text="Offre publiée.").wait_for()
    row = page.get_by_role("row").filter(has_text="Ateliers de gestion de budget")
    assert "accounting (4/5)" in row.inner_text()
    shot(page, tmp_path, "company-offer")


def test_phone_household_list_and_printable_point(phone: Any, live_server: LiveServer,
                                                  tmp_path: Path) -> None:
    """On a phone the navigation wraps and nothing overflows; the point page prints on A4."""
    base = live_server.base_url
    login(phone, base, ASSOCIATION)
    phone.get_by_role("link", name="Points de distribution").first.click()
    phone.locator(".cards h2 a").first.click()
    phone.get_by_role("heading", name="Foyers qui retirent leur panier ici").wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(phone, tmp_path, "phone-point")
    phone.emulate_media(media="print")
    assert phone.locator(".site-header").is_hidden()
    pdf = tmp_path / "point.pdf"
    phone.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 5_000
