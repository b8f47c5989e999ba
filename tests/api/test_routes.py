"""Every API route: success, 401 without a token, 403 for a wrong role, 422 for a bad body,
and 404 for another organisation's record; plus a walk of app.routes that fails on any route
left out of this table."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from baskets.api.app import API_PREFIX
from tests.api.records import MONDAY, make_records
from tests.world import PASSWORD, World

Body = Callable[[World, dict[str, uuid.UUID]], dict[str, Any]]
# Extra request arguments (files=..., params=...) for routes that take uploads or queries.
Extra = Callable[[World, dict[str, uuid.UUID]], dict[str, Any]]


@dataclass(frozen=True)
class R:
    method: str
    path: str
    ok: str | None = None  # user for whom the call succeeds; None: public route
    forbidden: str | None = None  # a user whose role may not call it
    body: Body | None = None
    bad: dict[str, Any] | None = None  # a body that fails validation
    ids: dict[str, str] = field(default_factory=dict)  # path param -> record kind (mine/theirs)
    shared: dict[str, str] = field(default_factory=dict)  # path param -> shared reference data
    status: int = 200
    extra: Extra | None = None  # sent with every call of the route
    bad_extra: Extra | None = None  # sent instead of `extra` for the 422 case

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _lot(w: World, i: dict[str, uuid.UUID]) -> dict[str, Any]:
    return {"farmer_id": str(i["farmer_mine"]), "product_id": str(w.ids["leek"]),
            "quantity_kg": 80, "harvest_date": MONDAY.isoformat(),
            "pickup_start": f"{MONDAY}T07:00:00+01:00", "pickup_end": f"{MONDAY}T10:00:00+01:00",
            "price_per_kg": 1.5}


def _household(w: World, i: dict[str, uuid.UUID]) -> dict[str, Any]:
    return {"reference": "AMP-FV-0099", "adults": 1, "children": 2,
            "neighbourhood_id": str(w.ids["n1"]), "distribution_point_id": str(w.ids["point1"]),
            "excluded_categories": ["dairy"], "referral_reason": "single_parent",
            "valid_until": (MONDAY + timedelta(days=180)).isoformat(),
            "consent_date": (MONDAY - timedelta(days=1)).isoformat(),
            "last_contact_date": (MONDAY - timedelta(days=1)).isoformat()}


PROFILE = {"home_area": "Marseille 14e", "lat": 43.34, "lon": 5.39, "vehicle_kind": "car",
           "capacity_kg": 200, "availability": [{"weekday": 2, "start": "08:00", "end": "12:00"}],
           "skills": {"logistics": 3}}
VEHICLE = {"name": "Camion frigo", "capacity_kg": 1200, "refrigerated": True,
           "depot_lat": 43.34, "depot_lon": 5.38, "shift_start": "06:30", "shift_end": "13:00",
           "max_duration_min": 360}


def _offer(w: World, i: dict[str, uuid.UUID]) -> dict[str, Any]:
    return {"title": "Site web", "skills": {"web": 4}, "hours": 30,
            "starts_on": MONDAY.isoformat(), "ends_on": (MONDAY + timedelta(days=30)).isoformat(),
            "lat": 43.3, "lon": 5.37, "remote_ok": True}


def _project(w: World, i: dict[str, uuid.UUID]) -> dict[str, Any]:
    return {"neighbourhood_id": str(w.ids["n1"]), "title": "Soutien scolaire",
            "starts_on": MONDAY.isoformat(), "ends_on": (MONDAY + timedelta(days=60)).isoformat(),
            "lat": 43.33, "lon": 5.42, "needs": [{"skill": "teaching", "min_level": 2,
                                                  "hours": 20}]}


def _io_upload(text: str) -> Extra:
    return lambda w, i: {"files": {"file": ("f.csv", text.encode(), "text/csv")}}


_HOUSEHOLDS_CSV = (
    "Référence;Nom du contact;Adultes;Quartier;Point de distribution;Motif;Valide jusqu'au;"
    "Date de consentement;Dernier contact\r\n"
    f"IMP-1;Awa D.;2;Frais Vallon;Centre social 1;santé;{(MONDAY + timedelta(days=90)):%d/%m/%Y};"
    f"{(MONDAY - timedelta(days=9)):%d/%m/%Y};{(MONDAY - timedelta(days=2)):%d/%m/%Y}\r\n")
_VOLUNTEERS_CSV = "E-mail,Nom,Secteur,Latitude,Longitude\r\nnew.v@ex.fr,Sam,Marseille,43.3,5.4\r\n"


def _lots_upload(w: World, i: dict[str, uuid.UUID]) -> dict[str, Any]:
    day = f"{MONDAY:%d/%m/%Y}"
    text = ("Producteur;Produit;Quantité (kg);Date de récolte;Début d'enlèvement;"
            "Fin d'enlèvement;Prix au kg (€)\r\n"
            f"12345678900017;{w.ids['eggs']};36;{day};{day} 07:00;{day} 09:00;4,5\r\n")
    return {"files": {"file": ("l.csv", text.encode(), "text/csv")},
            "params": {"week_id": str(i["week_mine"])}}


NO_FILE: Extra = lambda w, i: {}  # noqa: E731
BAD_FORMAT: Extra = lambda w, i: {"params": {"format": "pdf"}}  # noqa: E731


ROUTES: list[R] = [
    R("GET", "/health"),
    R("POST", "/auth/token"),
    R("POST", "/volunteers/signup"),
    R("GET", "/me", ok="assoc1"),
    R("POST", "/auth/logout", ok="assoc1", status=204),
    R("POST", "/me/password", ok="assoc1",
      body=lambda w, i: {"current_password": PASSWORD, "new_password": "une-autre-phrase"},
      bad={"current_password": "", "new_password": "short"}),
    R("POST", "/users/{user_id}/deactivate", ok="admin", forbidden="coord1",
      shared={"user_id": "user_company2"}),
    R("GET", "/organisations", ok="assoc1"),
    R("POST", "/organisations", ok="admin", forbidden="coord1", status=201,
      body=lambda w, i: {"name": "Secours du quartier", "kind": "association",
                         "territory_id": str(w.ids["t1"])},
      bad={"name": "", "kind": "club", "territory_id": "x"}),
    R("GET", "/organisations/{organisation_id}", ok="assoc1",
      ids={"organisation_id": "organisation"}),
    R("POST", "/users", ok="admin", forbidden="coord1", status=201,
      body=lambda w, i: {"organisation_id": str(w.ids["assoc1"]), "email": "new@assoc.example",
                         "full_name": "Nouvel accueil", "role": "association",
                         "password": "a-long-password"},
      bad={"organisation_id": "x", "email": "not-an-email", "full_name": "", "role": "boss",
           "password": "short"}),
    R("GET", "/territories", ok="assoc1"),
    R("POST", "/territories", ok="admin", forbidden="coord1", status=201,
      body=lambda w, i: {"code": "LYON-X", "name": "Lyon"}, bad={"code": "!", "name": ""}),
    R("GET", "/territories/{territory_id}", ok="assoc1", shared={"territory_id": "t1"}),
    R("GET", "/neighbourhoods", ok="assoc1"),
    R("POST", "/neighbourhoods", ok="admin", forbidden="coord1", status=201,
      body=lambda w, i: {"territory_id": str(w.ids["t1"]), "name": "La Savine",
                         "qpv_code": "QN0130999", "lat": 43.36, "lon": 5.38},
      bad={"territory_id": str(uuid.uuid4()), "name": "X", "qpv_code": "bad", "lat": 91,
           "lon": 5}),
    R("GET", "/neighbourhoods/{neighbourhood_id}", ok="assoc1",
      shared={"neighbourhood_id": "n1"}),
    R("GET", "/distribution-points", ok="assoc1", forbidden="company1"),
    R("POST", "/distribution-points", ok="assoc1", forbidden="coord1", status=201,
      body=lambda w, i: {"neighbourhood_id": str(w.ids["n1"]), "name": "Local du Lierre",
                         "address": "12 bd du Lierre", "lat": 43.33, "lon": 5.42,
                         "opening_hours": [{"weekday": 3, "opens": "09:00", "closes": "12:00"}]},
      bad={"neighbourhood_id": str(uuid.uuid4()), "name": "X", "address": "12 bd",
           "lat": 43.3, "lon": 5.4, "opening_hours": [{"weekday": 3, "opens": "12:00",
                                                        "closes": "09:00"}]}),
    R("GET", "/distribution-points/{point_id}", ok="assoc1", forbidden="company1",
      ids={"point_id": "point"}),
    R("PATCH", "/distribution-points/{point_id}", ok="assoc1", forbidden="coord1",
      ids={"point_id": "point"}, body=lambda w, i: {"name": "Centre social rénové"},
      bad={"capacity_kg": -1}),
    R("GET", "/farmers", ok="coord1", forbidden="assoc1"),
    R("POST", "/farmers", ok="coord1", forbidden="assoc1", status=201,
      body=lambda w, i: {"name": "Mas de la Crau", "siret": "98765432100012",
                         "address": "Route d'Arles, Saint-Martin-de-Crau", "lat": 43.64,
                         "lon": 4.81},
      bad={"name": "X", "siret": "123", "address": "Route", "lat": 43.6, "lon": 4.8}),
    R("GET", "/farmers/{farmer_id}", ok="coord1", forbidden="assoc1", ids={"farmer_id": "farmer"}),
    R("PATCH", "/farmers/{farmer_id}", ok="coord1", forbidden="assoc1",
      ids={"farmer_id": "farmer"}, body=lambda w, i: {"name": "Ferme des Paluds (GAEC)"},
      bad={"siret": "12"}),
    R("GET", "/products", ok="assoc1"),
    R("POST", "/products", ok="coord1", forbidden="assoc1", status=201,
      body=lambda w, i: {"name": "Blettes test", "category": "vegetable",
                         "shelf_life_days": 5},
      bad={"name": "Steak", "category": "meat", "shelf_life_days": 0}),
    R("GET", "/products/{product_id}", ok="assoc1", shared={"product_id": "leek"}),
    R("PATCH", "/products/{product_id}", ok="coord1", forbidden="assoc1",
      shared={"product_id": "leek"}, body=lambda w, i: {"shelf_life_days": 12},
      bad={"shelf_life_days": 0}),
    R("GET", "/weeks", ok="coord1", forbidden="assoc1"),
    R("POST", "/weeks", ok="coord1", forbidden="assoc1", status=201,
      body=lambda w, i: {"starts_on": (MONDAY + timedelta(days=7)).isoformat()},
      bad={"starts_on": (MONDAY + timedelta(days=8)).isoformat()}),
    R("GET", "/weeks/{week_id}", ok="coord1", forbidden="assoc1", ids={"week_id": "week"}),
    R("PATCH", "/weeks/{week_id}", ok="coord1", forbidden="assoc1", ids={"week_id": "week"},
      body=lambda w, i: {"policy": {"kg_per_consumption_unit": 5.0}},
      bad={"policy": {"max_coverage": 0.5}}),
    R("GET", "/weeks/{week_id}/lots", ok="coord1", forbidden="assoc1", ids={"week_id": "week"}),
    R("POST", "/weeks/{week_id}/lots", ok="coord1", forbidden="assoc1", status=201,
      ids={"week_id": "week"}, body=_lot,
      bad={"farmer_id": str(uuid.uuid4()), "product_id": str(uuid.uuid4()), "quantity_kg": -1,
           "harvest_date": "2026-13-01", "pickup_start": "x", "pickup_end": "y",
           "price_per_kg": 1}),
    R("GET", "/lots/{lot_id}", ok="coord1", forbidden="assoc1", ids={"lot_id": "lot"}),
    R("PATCH", "/lots/{lot_id}", ok="coord1", forbidden="assoc1", ids={"lot_id": "lot"},
      body=lambda w, i: {"quantity_kg": 100}, bad={"quantity_kg": -5}),
    R("DELETE", "/lots/{lot_id}", ok="coord1", forbidden="assoc1", ids={"lot_id": "lot"},
      status=204),
    R("GET", "/households", ok="assoc1", forbidden="coord1"),
    R("POST", "/households", ok="assoc1", forbidden="coord1", status=201, body=_household,
      bad={"reference": "bad ref with spaces", "adults": 0, "neighbourhood_id": "x",
           "distribution_point_id": "y", "referral_reason": "rich", "valid_until": "never",
           "consent_date": "x", "last_contact_date": "y", "income": 1200}),
    R("GET", "/households/{household_id}", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}),
    R("PATCH", "/households/{household_id}", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}, body=lambda w, i: {"adults": 3},
      bad={"adults": 0, "organisation_id": str(uuid.uuid4())}),
    R("POST", "/households/{household_id}/archive", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}),
    R("GET", "/households/{household_id}/audit", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}),
    R("GET", "/coordination/households", ok="coord1", forbidden="assoc1"),
    R("GET", "/volunteers/me", ok="volunteer1", forbidden="assoc1"),
    R("PUT", "/volunteers/me", ok="volunteer1", forbidden="assoc1",
      body=lambda w, i: PROFILE, bad={**PROFILE, "lat": 200, "role": "admin"}),
    R("GET", "/volunteers", ok="coord1", forbidden="assoc1"),
    R("GET", "/volunteers/{volunteer_id}", ok="coord1", forbidden="assoc1",
      ids={"volunteer_id": "volunteer"}),
    R("GET", "/vehicles", ok="coord1", forbidden="volunteer1"),
    R("POST", "/vehicles", ok="coord1", forbidden="volunteer1", status=201,
      body=lambda w, i: VEHICLE, bad={**VEHICLE, "shift_start": "25:00", "capacity_kg": 0}),
    R("GET", "/vehicles/{vehicle_id}", ok="coord1", forbidden="volunteer1",
      ids={"vehicle_id": "vehicle"}),
    R("PATCH", "/vehicles/{vehicle_id}", ok="coord1", forbidden="volunteer1",
      ids={"vehicle_id": "vehicle"}, body=lambda w, i: {"capacity_kg": 900},
      bad={"capacity_kg": -1}),
    R("GET", "/offers", ok="company1", forbidden="assoc1"),
    R("POST", "/offers", ok="company1", forbidden="assoc1", status=201, body=_offer,
      bad={"title": "X", "skills": {}, "hours": 0, "starts_on": "2026-01-10",
           "ends_on": "2026-01-01", "lat": 0, "lon": 0}),
    R("GET", "/offers/{offer_id}", ok="company1", forbidden="assoc1", ids={"offer_id": "offer"}),
    R("PATCH", "/offers/{offer_id}", ok="company1", forbidden="assoc1",
      ids={"offer_id": "offer"}, body=lambda w, i: {"hours": 50}, bad={"hours": -2}),
    R("POST", "/weeks/{week_id}/allocation", ok="coord1", forbidden="assoc1", status=202,
      ids={"week_id": "week"}, body=lambda w, i: {"time_limit": 2, "seed": 1},
      bad={"time_limit": -1, "seed": "x"}),
    R("GET", "/weeks/{week_id}/allocation", ok="coord1", forbidden="assoc1",
      ids={"week_id": "week"}),
    R("GET", "/weeks/{week_id}/baskets", ok="assoc1", forbidden="company1",
      ids={"week_id": "week"}),
    R("GET", "/weeks/{week_id}/packing-lists/{point_id}", ok="assoc1", forbidden="company1",
      ids={"week_id": "week", "point_id": "point"}),
    R("POST", "/baskets/{basket_id}/collected", ok="assoc1", forbidden="coord1",
      ids={"basket_id": "basket"}, body=lambda w, i: {"collected": True},
      bad={"collected": "peut-être"}),
    R("POST", "/weeks/{week_id}/publish", ok="coord1", forbidden="assoc1",
      ids={"week_id": "week"}),
    R("GET", "/projects", ok="assoc1"),
    R("POST", "/projects", ok="assoc1", forbidden="company1", status=201, body=_project,
      bad={"neighbourhood_id": "x", "title": "", "starts_on": "2026-01-10", "ends_on": "x",
           "lat": 0, "lon": 0, "needs": []}),
    R("GET", "/projects/{project_id}", ok="assoc1", ids={"project_id": "project"}),
    R("PATCH", "/projects/{project_id}", ok="assoc1", forbidden="company1",
      ids={"project_id": "project"}, body=lambda w, i: {"title": "Jardin partagé des Lilas"},
      bad={"needs": [{"skill": "", "hours": -1}]}),
    R("POST", "/imports/households", ok="assoc1", forbidden="coord1",
      extra=_io_upload(_HOUSEHOLDS_CSV), bad_extra=NO_FILE),
    R("POST", "/imports/lots", ok="coord1", forbidden="assoc1", extra=_lots_upload,
      bad_extra=NO_FILE),
    R("POST", "/imports/volunteers", ok="coord1", forbidden="assoc1",
      extra=_io_upload(_VOLUNTEERS_CSV), bad_extra=NO_FILE),
    R("GET", "/imports/households/template", ok="assoc1", bad_extra=BAD_FORMAT),
    R("GET", "/imports/lots/template", ok="coord1", bad_extra=BAD_FORMAT),
    R("GET", "/imports/volunteers/template", ok="coord1", bad_extra=BAD_FORMAT),
    R("GET", "/exports/households", ok="assoc1", forbidden="coord1", bad_extra=BAD_FORMAT),
    R("GET", "/exports/volunteers", ok="coord1", forbidden="assoc1", bad_extra=BAD_FORMAT),
    R("GET", "/weeks/{week_id}/exports/lots", ok="coord1", forbidden="assoc1",
      ids={"week_id": "week"}, bad_extra=BAD_FORMAT),
    R("POST", "/matching/runs", ok="coord1", forbidden="assoc1", status=202,
      body=lambda w, i: {"time_limit": 2, "seed": 1}, bad={"time_limit": -1, "seed": "x"}),
    R("GET", "/matching/runs/{run_id}", ok="coord1", forbidden="assoc1", ids={"run_id": "run"}),
    R("GET", "/engagements", ok="company1"),
    R("GET", "/engagements/{engagement_id}", ok="company1",
      ids={"engagement_id": "engagement"}),
    R("POST", "/engagements/{engagement_id}/accept", ok="company1", forbidden="coord1",
      ids={"engagement_id": "engagement"}),
    R("POST", "/engagements/{engagement_id}/decline", ok="assoc1", forbidden="coord1",
      ids={"engagement_id": "engagement"}),
    R("POST", "/engagements/{engagement_id}/hours", ok="company1", forbidden="assoc1",
      status=201, ids={"engagement_id": "active_engagement"},
      body=lambda w, i: {"worked_on": MONDAY.isoformat(), "hours": 2.5, "note": "Atelier"},
      bad={"worked_on": "lundi", "hours": 0, "approved": True}),
    R("POST", "/engagements/{engagement_id}/hours/{log_id}/approve", ok="assoc1",
      forbidden="company1", ids={"engagement_id": "active_engagement", "log_id": "hour_log"}),
    R("GET", "/projects/{project_id}/engagements", ok="assoc1", forbidden="company1",
      ids={"project_id": "project"}),
    R("GET", "/companies/me/report", ok="company1", forbidden="assoc1"),
    R("GET", "/companies/me/report.csv", ok="company1", forbidden="assoc1"),
    R("GET", "/companies/me/report.xlsx", ok="company1", forbidden="assoc1"),
    R("GET", "/weeks/{week_id}/exports/baskets", ok="coord1", forbidden="company1",
      ids={"week_id": "week"}, bad_extra=BAD_FORMAT),
    R("GET", "/weeks/{week_id}/report", ok="coord1", forbidden="assoc1",
      ids={"week_id": "week"}),
    R("GET", "/weeks/{week_id}/report/document", ok="coord1", forbidden="assoc1",
      ids={"week_id": "week"}),
    R("GET", "/households/duplicates", ok="assoc1", forbidden="coord1"),
    R("GET", "/jobs", ok="coord1", forbidden="volunteer1"),
    R("GET", "/jobs/{job_id}", ok="coord1", forbidden="volunteer1", ids={"job_id": "job"}),
    R("GET", "/jobs/{job_id}/events", ok="coord1", forbidden="volunteer1", ids={"job_id": "job"},
      extra=lambda w, i: {"params": {"follow_seconds": 0}}),
    R("POST", "/jobs/{job_id}/cancel", ok="coord1", forbidden="volunteer1", ids={"job_id": "job"}),
    R("GET", "/coordination/households/duplicates", ok="coord1", forbidden="assoc1"),
    R("GET", "/households/{household_id}/export", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}),
    R("POST", "/households/{household_id}/erase", ok="assoc1", forbidden="coord1",
      ids={"household_id": "household"}),
    R("POST", "/weeks/{week_id}/rounds", ok="coord1", forbidden="volunteer1", status=202,
      ids={"week_id": "week"}, body=lambda w, i: {"time_limit": 1, "seed": 1},
      bad={"time_limit": 0, "vehicles": []}),
    R("GET", "/weeks/{week_id}/rounds", ok="coord1", forbidden="volunteer1",
      ids={"week_id": "week"}),
    R("POST", "/weeks/{week_id}/rounds/replan", ok="coord1", forbidden="volunteer1",
      status=202, ids={"week_id": "week"},
      body=lambda w, i: {"vehicle": f"van:{i['vehicle_mine']}", "time_limit": 1},
      bad={"vehicle": "", "time_limit": -1}),
    R("GET", "/weeks/{week_id}/exports/rounds", ok="coord1", forbidden="volunteer1",
      ids={"week_id": "week"}, bad_extra=BAD_FORMAT),
    R("POST", "/weeks/{week_id}/drivers", ok="coord1", forbidden="volunteer1",
      status=202, ids={"week_id": "week"}, body=lambda w, i: {"time_limit": 2},
      bad={"pins": [{"round_id": "x"}]}),
    R("GET", "/rounds/open", ok="volunteer1", forbidden="coord1"),
    R("GET", "/rounds/mine", ok="volunteer1", forbidden="coord1"),
    R("POST", "/rounds/{round_id}/claim", ok="volunteer1", forbidden="coord1",
      ids={"round_id": "round"}),
    R("POST", "/rounds/{round_id}/drop", ok="volunteer1", forbidden="coord1",
      ids={"round_id": "driven"}),
    R("POST", "/rounds/{round_id}/stops/{stop_id}/done", ok="volunteer1", forbidden="assoc1",
      ids={"round_id": "driven", "stop_id": "stop"}, body=lambda w, i: {"note": "RAS"},
      bad={"note": 12, "status": "done"}),
    R("POST", "/rounds/{round_id}/stops/{stop_id}/problem", ok="volunteer1",
      forbidden="assoc1", ids={"round_id": "driven", "stop_id": "stop"},
      body=lambda w, i: {"note": "Porte fermée"}, bad={"note": ""}),
    R("GET", "/rounds/{round_id}/sheet", ok="volunteer1", forbidden="assoc1",
      ids={"round_id": "round"}),
    R("GET", "/rounds/{round_id}/replacements", ok="coord1", forbidden="volunteer1",
      ids={"round_id": "driven"}),
]
BY_KEY = {route.key: route for route in ROUTES}


def _path(route: R, world: World, ids: dict[str, uuid.UUID], side: str = "mine") -> str:
    values = {param: ids[f"{kind}_{side}"] for param, kind in route.ids.items()}
    values.update({param: world.ids[name] for param, name in route.shared.items()})
    return API_PREFIX + route.path.format(**values)


def _call(client: TestClient, route: R, path: str, who: str | None,
          body: dict[str, Any] | None, extra: dict[str, Any] | None = None) -> Any:
    headers = {} if who is None else {"Authorization": f"Bearer {_world_tokens[who]}"}
    return client.request(route.method, path, json=body, headers=headers, **(extra or {}))


_world_tokens: dict[str, str] = {}


@pytest.fixture
def records(session: Session, world: World) -> dict[str, uuid.UUID]:
    _world_tokens.clear()
    _world_tokens.update(world.tokens)
    return make_records(session, world)


def _body(route: R, world: World, ids: dict[str, uuid.UUID]) -> dict[str, Any] | None:
    return route.body(world, ids) if route.body else None


def _extra(route: R, world: World, ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    return route.extra(world, ids) if route.extra else {}


PRIVATE = [r for r in ROUTES if r.ok is not None]


@pytest.mark.parametrize("route", PRIVATE, ids=lambda r: r.key)
def test_success(client: TestClient, world: World, records: dict[str, uuid.UUID],
                 route: R) -> None:
    """The right role gets the route's success status."""
    response = _call(client, route, _path(route, world, records), route.ok,
                     _body(route, world, records), _extra(route, world, records))
    assert response.status_code == route.status, response.text


@pytest.mark.parametrize("route", PRIVATE, ids=lambda r: r.key)
def test_no_token_is_401(client: TestClient, world: World, records: dict[str, uuid.UUID],
                         route: R) -> None:
    """Without a token every private route answers 401 in the error shape."""
    response = _call(client, route, _path(route, world, records), None,
                     _body(route, world, records), _extra(route, world, records))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in PRIVATE if r.forbidden], ids=lambda r: r.key)
def test_wrong_role_is_403(client: TestClient, world: World, records: dict[str, uuid.UUID],
                           route: R) -> None:
    """A role that may not use the route gets 403."""
    response = _call(client, route, _path(route, world, records), route.forbidden,
                     _body(route, world, records), _extra(route, world, records))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("route", [r for r in PRIVATE if r.bad or r.bad_extra],
                         ids=lambda r: r.key)
def test_bad_body_is_422_with_details(client: TestClient, world: World,
                                      records: dict[str, uuid.UUID], route: R) -> None:
    """An invalid body answers 422 listing each bad field with a French message."""
    extra = route.bad_extra(world, records) if route.bad_extra else _extra(route, world, records)
    response = _call(client, route, _path(route, world, records), route.ok, route.bad, extra)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"], error
    assert all(detail["field"] and detail["message"] for detail in error["details"])


@pytest.mark.parametrize("route", [r for r in PRIVATE if r.ids], ids=lambda r: r.key)
def test_other_organisations_record_is_404(client: TestClient, world: World,
                                           records: dict[str, uuid.UUID], route: R) -> None:
    """Another organisation's record answers 404, exactly like a missing one."""
    body = _body(route, world, records)
    extra = _extra(route, world, records)
    theirs = _call(client, route, _path(route, world, records, "theirs"), route.ok, body, extra)
    missing = client.request(
        route.method,
        API_PREFIX + route.path.format(**{p: uuid.uuid4() for p in route.ids}
                                       | {p: world.ids[n] for p, n in route.shared.items()}),
        json=body, headers=world.auth(route.ok or ""), **extra)
    assert theirs.status_code == 404, theirs.text
    assert missing.status_code == 404
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def _api_routes(app: FastAPI) -> set[str]:
    found: set[str] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                walk(original.routes, prefix + route.include_context.prefix
                     if hasattr(route, "include_context") else prefix)
            elif isinstance(route, APIRoute):
                for method in route.methods:
                    found.add(f"{method} {prefix}{route.path}")

    walk(list(app.routes), "")
    return {key.replace(API_PREFIX, "", 1) for key in found if API_PREFIX in key}


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    """Walking app.routes finds no route missing from this table, and every route taking an
    id is covered by the other-organisation test or declared shared reference data."""
    routes = _api_routes(app)
    assert len(routes) > 40
    assert routes - set(BY_KEY) == set()
    assert set(BY_KEY) - routes == set()
    for key in routes:
        route = BY_KEY[key]
        params = {part[1:-1] for part in route.path.split("/") if part.startswith("{")}
        assert params == set(route.ids) | set(route.shared), key


# Routes a coordinator calls that a volunteer of the same team may call too: blank templates.
VOLUNTEER_OF_THE_TEAM_MAY = {"GET /imports/lots/template", "GET /imports/volunteers/template"}


@pytest.mark.parametrize(
    "route", [r for r in PRIVATE if r.ok == "coord1" and r.key not in VOLUNTEER_OF_THE_TEAM_MAY],
    ids=lambda r: r.key)
def test_volunteer_of_the_team_is_403_on_coordinator_routes(
        client: TestClient, world: World, records: dict[str, uuid.UUID], route: R) -> None:
    """Volunteers belong to the food team's organisation: organisation scoping alone would
    let them read or act on the team's records (jobs, weeks, reports...); their role stops
    them."""
    response = _call(client, route, _path(route, world, records), "volunteer1",
                     _body(route, world, records), _extra(route, world, records))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
