"""The pages without a browser (SQLite and PostgreSQL): every page for every role, other
organisations' records, cookie sessions, CSRF, forms writing through the services, error pages."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.security import issue_token
from baskets.config import Settings
from baskets.households.models import Household, HouseholdAudit
from baskets.sponsorship.models import Offer
from baskets.supply.models import SupplyLot
from baskets.volunteers.models import Volunteer
from baskets.web.core import LANG_COOKIE, SESSION_COOKIE, PageRoute
from baskets.web.routes import router as web_router
from tests.api.records import MONDAY, make_records
from tests.world import PASSWORD, World

ROLES = ["coord1", "assoc1", "volunteer1", "company1", "admin"]
# Every GET page, with the record kinds its path needs (filled with the tester's own records).
PAGES = [
    "/", "/account", "/weeks", "/weeks/{week}", "/weeks/{week}/supply", "/farmers",
    "/weeks/{week}/report", "/weeks/{week}/report.xlsx", "/weeks/{week}/import",
    "/lots/import/template", "/households/import", "/households/import/template",
    "/volunteers/import", "/volunteers/import/template",
    "/households", "/households?archived=true", "/households/new", "/households/{household}",
    "/points", "/points/{point}", "/profile", "/offers", "/offers/new", "/offers/{offer}",
    "/jobs", "/jobs/{job}", "/jobs/{job}/progress",
    "/rounds", "/rounds/{round}", "/weeks/{week}/rounds/export",
    "/engagements", "/report", "/report.csv", "/report.xlsx", "/matching",
    "/sw.js", "/manifest.webmanifest",
]
FRENCH_ERRORS = {403: "Accès refusé", 404: "Page introuvable"}


@pytest.fixture
def records(session: Session, world: World) -> dict[str, uuid.UUID]:
    return make_records(session, world)


def login_as(client: TestClient, settings: Settings, world: World, who: str) -> None:
    """Put a signed session cookie for `who` in the client (the login form is tested apart)."""
    token = issue_token(world.ids[f"user_{who}"], secret=settings.secret_key, ttl_minutes=30)
    client.cookies.set(SESSION_COOKIE, token)


def csrf_of(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def fill(path: str, ids: dict[str, uuid.UUID], side: str = "mine") -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[f"{m.group(1)}_{side}"]), path)


def assert_french_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    assert FRENCH_ERRORS[status] in response.text
    assert "Traceback" not in response.text


def test_every_get_page_is_listed(app: FastAPI) -> None:
    """Walking the web router finds no GET page left out of PAGES (so the role walk covers it)."""
    listed = {re.sub(r"\?.*", "", page) for page in PAGES}
    found: set[str] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if getattr(route, "original_router", None) is not None:
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute) and "GET" in route.methods:
                found.add(re.sub(r"\{(\w+)_id\}", r"{\1}", route.path))

    walk(web_router.routes)
    found -= {"/{path:page}", "/lang/{code}"}
    assert found == listed


@pytest.mark.parametrize("who", ROLES)
def test_every_page_answers_200_or_a_french_error_page(
    client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID], who: str
) -> None:
    """For every role, every page is 200 or a French 403/404 page; never a 500."""
    login_as(client, settings, world, who)
    statuses = {}
    for page in PAGES:
        response = client.get(fill(page, records), follow_redirects=False)
        statuses[page] = response.status_code
        if response.status_code != 200:
            assert_french_error(response, response.status_code)
        else:
            assert "Traceback" not in response.text
    assert 500 not in statuses.values()
    assert statuses["/"] == statuses["/account"] == 200


def test_each_role_reaches_its_own_pages(client: TestClient, settings: Settings, world: World,
                                         records: dict[str, uuid.UUID]) -> None:
    """Each front door opens its pages, and another role's page is a French 403."""
    own = {"coord1": ["/weeks/{week}/supply", "/farmers"],
           "assoc1": ["/households/{household}", "/points/{point}"],
           "volunteer1": ["/profile"], "company1": ["/offers/{offer}"]}
    for who, pages in own.items():
        login_as(client, settings, world, who)
        for page in pages:
            assert client.get(fill(page, records)).status_code == 200, (who, page)
    login_as(client, settings, world, "company1")
    assert_french_error(client.get("/households"), 403)


@pytest.mark.parametrize(("who", "page"), [
    ("assoc1", "/households/{household}"), ("assoc1", "/points/{point}"),
    ("coord1", "/weeks/{week}"), ("coord1", "/weeks/{week}/supply"),
    ("company1", "/offers/{offer}"),
])
def test_another_organisations_page_is_404(
    client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
    who: str, page: str
) -> None:
    """Another organisation's record answers the same French 404 page as a missing one."""
    login_as(client, settings, world, who)
    theirs = client.get(fill(page, records, "theirs"))
    missing = client.get(re.sub(r"\{\w+\}", str(uuid.uuid4()), page))
    assert_french_error(theirs, 404)
    assert_french_error(missing, 404)
    assert _neutral(theirs.text) == _neutral(missing.text)


def _neutral(html: str) -> str:
    """The page without its ids and CSRF token, to compare two answers."""
    html = re.sub(r'value="[^"]+"', "", html)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", html)


def test_writing_to_another_associations_household_is_404(
    client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
    session: Session
) -> None:
    """Editing or archiving another association's household is a 404 and changes nothing."""
    login_as(client, settings, world, "assoc1")
    token = csrf_of(client)
    theirs = records["household_theirs"]
    edit = client.post(f"/households/{theirs}", data={"csrf_token": token, "adults": "5"})
    archive = client.post(f"/households/{theirs}/archive", data={"csrf_token": token})
    assert_french_error(edit, 404)
    assert_french_error(archive, 404)
    session.expire_all()
    household = session.get(Household, theirs)
    assert household is not None
    assert household.adults == 2
    assert household.archived_at is None


def test_visitor_gets_the_french_login_page_and_private_pages_redirect(
    client: TestClient, world: World
) -> None:
    """`/` is the French login page; a private page sends the visitor to it with ?next=."""
    home = client.get("/")
    assert home.status_code == 200
    assert '<html lang="fr">' in home.text
    assert "Connexion" in home.text
    assert 'href="#contenu"' in home.text  # skip link
    assert re.search(r'<label for="f-email">Adresse e-mail', home.text)
    private = client.get("/households", follow_redirects=False)
    assert private.status_code == 303
    assert private.headers["location"] == "/?next=/households"


def test_login_sets_an_httponly_lax_cookie_and_logout_clears_it(
    client: TestClient, world: World
) -> None:
    """The login form opens a signed HttpOnly, SameSite=Lax session; log out closes it."""
    token = csrf_of(client)
    response = client.post("/login", data={"csrf_token": token, "email": world.emails["assoc1"],
                                           "password": PASSWORD, "next": "/households"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/households"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert client.get("/households").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf_of(client, "/account")},
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/households", follow_redirects=False).status_code == 303


def test_wrong_password_and_foreign_next(client: TestClient, world: World) -> None:
    """A wrong password re-shows the form in French; `next` never leaves the site."""
    token = csrf_of(client)
    wrong = client.post("/login", data={"csrf_token": token, "email": world.emails["assoc1"],
                                        "password": "not the password"})
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    ok = client.post("/login", data={"csrf_token": token, "email": world.emails["assoc1"],
                                     "password": PASSWORD, "next": "//evil.example/x"},
                     follow_redirects=False)
    assert ok.headers["location"] == "/"


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
    session: Session
) -> None:
    """A form posted without (or with a wrong) CSRF token is a French 403 and writes nothing."""
    assert client.post("/login", data={"email": world.emails["assoc1"],
                                       "password": PASSWORD}).status_code == 403
    login_as(client, settings, world, "assoc1")
    response = client.post(f"/households/{records['household_mine']}/archive",
                           data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    session.expire_all()
    household = session.get(Household, records["household_mine"])
    assert household is not None
    assert household.archived_at is None


def test_login_is_rate_limited(client: TestClient, world: World) -> None:
    """After the allowed attempts per minute, the login page answers 429 in French."""
    token = csrf_of(client)
    statuses = [client.post("/login", data={"csrf_token": token, "email": "x@y.example",
                                            "password": "wrong-password"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


def test_api_keeps_json_errors_and_pages_get_html(client: TestClient, world: World) -> None:
    """Unknown /api/ paths answer JSON; unknown pages a French HTML 404 page."""
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "http_404"
    assert_french_error(client.get("/nowhere/at/all"), 404)


def test_unexpected_error_is_a_french_500_page_without_trace(settings: Settings,
                                                             session_factory: Any) -> None:
    """An unexpected exception in a page is a plain French 500 page, never a stack trace."""
    from baskets.api.app import create_app

    app = create_app(settings, session_factory=session_factory)
    broken = APIRouter(route_class=PageRoute)

    @broken.get("/__broken")
    def explode() -> None:
        raise RuntimeError("secret internals")

    # Ahead of the site's catch-all 404 route.
    app.router.routes.insert(0, broken.routes[0])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/__broken")
    assert response.status_code == 500
    assert "Erreur inattendue" in response.text
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_english_is_available(client: TestClient, settings: Settings, world: World) -> None:
    """The language switch gives the English catalogue, html lang included."""
    client.get("/lang/en?next=/", follow_redirects=False)
    assert client.cookies.get(LANG_COOKIE) == "en"
    home = client.get("/")
    assert '<html lang="en">' in home.text
    assert "E-mail address" in home.text
    login_as(client, settings, world, "company1")
    assert "Page not found" in client.get("/nowhere").text


# ---------------------------------------------------------------- forms write through services


def _household_form(world: World, token: str, **changes: str) -> dict[str, str]:
    form = {"csrf_token": token, "reference": "WEB-0001", "contact_name": "Awa D.",
            "adults": "2", "children": "1", "infants": "0",
            "neighbourhood_id": str(world.ids["n1"]),
            "distribution_point_id": str(world.ids["point1"]),
            "referral_reason": "job_loss", "valid_until": (MONDAY + timedelta(days=90)).isoformat(),
            "consent_date": (date.today() - timedelta(days=1)).isoformat(),
            "last_contact_date": date.today().isoformat()}
    form.update(changes)
    return form


def test_household_form_registers_edits_and_archives_with_audit(
    client: TestClient, settings: Settings, world: World, session: Session
) -> None:
    """Register, edit and archive through the forms: the list shows it, audit rows follow."""
    login_as(client, settings, world, "assoc1")
    token = csrf_of(client)
    created = client.post("/households", data=_household_form(world, token),
                          follow_redirects=True)
    assert created.status_code == 200
    assert "WEB-0001" in created.text
    household = session.scalars(select(Household).where(Household.reference == "WEB-0001")).one()
    assert household.organisation_id == world.ids["assoc1"]
    edited = client.post(f"/households/{household.id}",
                         data=_household_form(world, token, adults="3"), follow_redirects=False)
    assert edited.status_code == 303
    history = client.get(f"/households/{household.id}").text
    assert "Historique des modifications" in history
    assert re.search(r"modification</td>\s*<td>User assoc1</td><td>Adultes</td>", history)
    client.post(f"/households/{household.id}/archive", data={"csrf_token": token})
    actions = session.scalars(select(HouseholdAudit.action).where(
        HouseholdAudit.household_id == household.id).order_by(HouseholdAudit.created_at)).all()
    assert list(actions) == ["create", "update", "archive"]
    audit = session.scalars(select(HouseholdAudit).where(
        HouseholdAudit.household_id == household.id, HouseholdAudit.action == "update")).one()
    assert audit.fields == ["adults"]


def test_invalid_household_form_writes_nothing_and_names_the_fields(
    client: TestClient, settings: Settings, world: World, session: Session
) -> None:
    """A refused registration re-shows the form (422) with French messages; nothing is saved."""
    login_as(client, settings, world, "assoc1")
    response = client.post("/households", data=_household_form(
        world, csrf_of(client), adults="0", distribution_point_id=str(world.ids["point1b"])))
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "Doit être supérieur ou égal à 1." in response.text
    assert session.scalars(select(Household).where(Household.reference == "WEB-0001")).first() \
        is None


def test_lot_form_and_bulk_paste(client: TestClient, settings: Settings, world: World,
                                 records: dict[str, uuid.UUID], session: Session) -> None:
    """One lot by form; a paste with one bad line saves nothing; a good paste saves all."""
    login_as(client, settings, world, "coord1")
    week = records["week_mine"]
    token = csrf_of(client)

    def count() -> int:
        return len(session.scalars(select(SupplyLot).where(SupplyLot.week_id == week)).all())

    before = count()
    one = client.post(f"/weeks/{week}/lots", data={
        "csrf_token": token, "farmer_id": str(records["farmer_mine"]),
        "product_id": str(world.ids["leek"]), "quantity_kg": "80,5", "price_per_kg": "1,6",
        "harvest_date": MONDAY.isoformat(), "pickup_day": MONDAY.isoformat(),
        "pickup_start": "07:00", "pickup_end": "09:30"}, follow_redirects=True)
    assert one.status_code == 200
    assert "Lot enregistré." in one.text
    assert count() == before + 1
    leek = session.get(SupplyLot, session.scalars(select(SupplyLot.id).where(
        SupplyLot.week_id == week, SupplyLot.quantity_kg == 80.5)).one())
    assert leek is not None
    assert leek.price_per_kg == 1.6
    day = MONDAY.strftime("%d/%m/%Y")
    good = f"Ferme des Paluds;{_leek_name(session, world)};100;1,5;{day};{day};07:00;10:00"
    bad = f"Ferme inconnue;{_leek_name(session, world)};100;1,5;{day};{day};07:00;10:00"
    refused = client.post(f"/weeks/{week}/lots/paste",
                          data={"csrf_token": token, "paste": f"{good}\n{bad}"})
    assert refused.status_code == 422
    assert "Ligne 2" in refused.text
    assert "Producteur inconnu" in refused.text
    assert count() == before + 1
    saved = client.post(f"/weeks/{week}/lots/paste",
                        data={"csrf_token": token, "paste": f"{good}\n{good}"},
                        follow_redirects=True)
    assert "2 lots enregistrés." in saved.text
    assert count() == before + 3


def _leek_name(session: Session, world: World) -> str:
    from baskets.supply.models import Product

    product = session.get(Product, world.ids["leek"])
    assert product is not None
    return product.name


def test_volunteer_profile_form_saves_availability(
    client: TestClient, settings: Settings, world: World, records: dict[str, uuid.UUID],
    session: Session
) -> None:
    """The profile form replaces availability, vehicle and skills through the service."""
    login_as(client, settings, world, "volunteer1")
    response = client.post("/profile", data={
        "csrf_token": csrf_of(client), "home_area": "Marseille 14e", "lat": "43,35",
        "lon": "5.41", "vehicle_kind": "van", "capacity_kg": "600", "max_km": "25",
        "hours_per_month": "10", "max_rounds_per_month": "3", "start_0_0": "09:00",
        "end_0_0": "12:00", "start_4_1": "14:00", "end_4_1": "18:00",
        "skill_name_0": "Logistics", "skill_level_0": "4"}, follow_redirects=False)
    assert response.status_code == 303
    session.expire_all()
    volunteer = session.get(Volunteer, records["volunteer_mine"])
    assert volunteer is not None
    assert volunteer.availability == [{"weekday": 0, "start": "09:00", "end": "12:00"},
                                      {"weekday": 4, "start": "14:00", "end": "18:00"}]
    assert volunteer.vehicle_kind == "van"
    assert volunteer.skills == {"logistics": 4}


def test_offer_forms_create_and_edit(client: TestClient, settings: Settings, world: World,
                                     records: dict[str, uuid.UUID], session: Session) -> None:
    """A company publishes an offer and edits one; a refused edit changes nothing."""
    login_as(client, settings, world, "company1")
    token = csrf_of(client)
    form = {"csrf_token": token, "title": "Atelier numérique", "skill_name_0": "web",
            "skill_level_0": "3", "hours": "24", "min_chunk_hours": "2",
            "starts_on": MONDAY.isoformat(), "ends_on": (MONDAY + timedelta(days=30)).isoformat(),
            "remote_ok": "on", "lat": "43.3", "lon": "5.4", "max_km": "20"}
    created = client.post("/offers", data=form, follow_redirects=True)
    assert created.status_code == 200
    assert "Atelier numérique" in created.text
    offer_id = records["offer_mine"]
    refused = client.post(f"/offers/{offer_id}", data={**form, "min_chunk_hours": "100"})
    assert refused.status_code == 422
    session.expire_all()
    offer = session.get(Offer, offer_id)
    assert offer is not None
    assert offer.title == "Comptabilité associative"
    client.post(f"/offers/{offer_id}", data={**form, "title": "Comptabilité (2 jours)"})
    session.expire_all()
    offer = session.get(Offer, offer_id)
    assert offer is not None
    assert offer.title == "Comptabilité (2 jours)"
