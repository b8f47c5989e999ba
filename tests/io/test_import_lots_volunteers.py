"""Supply lots (for one week) and volunteers imports."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import User
from baskets.accounts.security import verify_password
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.volunteers.models import Volunteer
from baskets.weeks.models import Week, WeekStatus
from tests.io.helpers import csv_bytes, upload, xlsx_bytes
from tests.world import World

MONDAY = date.today() - timedelta(days=date.today().weekday())
LOT_HEADERS = ["Producteur", "Produit", "Quantité (kg)", "Unités", "Date de récolte",
               "Début d'enlèvement", "Fin d'enlèvement", "Prix au kg (€)"]


@pytest.fixture
def week(session: Session, world: World) -> dict[str, Any]:
    """A draft week of team1 with one farmer; the names the lots file uses."""
    week = Week(organisation_id=world.ids["team1"], starts_on=MONDAY)
    farmer = Farmer(organisation_id=world.ids["team1"], name="Ferme des Paluds",
                    siret="12345678900017", address="Chemin des Paluds", lat=43.88, lon=4.85)
    session.add_all([week, farmer])
    session.commit()
    leek = session.get(Product, world.ids["leek"])
    eggs = session.get(Product, world.ids["eggs"])
    assert leek is not None
    assert eggs is not None
    return {"id": week.id, "farmer": farmer.id, "leek": leek.name, "eggs": eggs.name}


def _lot_rows(week: dict[str, Any], quantity: str = "120,5") -> list[list[str]]:
    day = MONDAY.strftime("%d/%m/%Y")
    return [["Ferme des Paluds", week["leek"], quantity, "", day, f"{day} 07:00",
             f"{day} 10:00", "1,80"],
            ["12345678900017", week["eggs"], "36", "", day, f"{day} 07:30", f"{day} 09:00",
             "4"]]


def _post_lots(client: TestClient, world: World, week_id: Any, data: bytes,
               who: str = "coord1", dry_run: bool = False) -> Any:
    return client.post("/api/v1/imports/lots", params={"week_id": str(week_id),
                                                       "dry_run": dry_run},
                       files=upload(data), headers=world.auth(who))


def test_lots_import_creates_then_is_idempotent(client: TestClient, session: Session,
                                                world: World, week: dict[str, Any]) -> None:
    """Lots keyed by farmer (name or SIRET) + product: created once, unchanged after, a new
    quantity is an update; units come from the product's unit weight."""
    data = csv_bytes(LOT_HEADERS, _lot_rows(week))
    first = _post_lots(client, world, week["id"], data)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 2
    again = _post_lots(client, world, week["id"], data).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = _post_lots(client, world, week["id"],
                         csv_bytes(LOT_HEADERS, _lot_rows(week, "99"), sep=",")).json()
    assert (changed["updated"], changed["unchanged"]) == (1, 1)
    lots = session.scalars(select(SupplyLot).where(SupplyLot.week_id == week["id"])).all()
    assert sorted(lot.quantity_kg for lot in lots) == [36.0, 99.0]
    eggs = next(lot for lot in lots if lot.product_id == world.ids["eggs"])
    assert eggs.units == 100  # 36 kg / 0.36 kg


def test_lots_problems_and_published_week(client: TestClient, session: Session, world: World,
                                          week: dict[str, Any]) -> None:
    """Unknown farmer, bad decimal and a window ending before it starts are each reported;
    a published week refuses the import (409); another team's week is 404."""
    rows = _lot_rows(week)
    rows[0][0] = "Ferme inconnue"
    rows[1][2] = "36 kg"
    rows[1][6] = rows[1][5].replace("07:30", "06:00")
    response = _post_lots(client, world, week["id"], csv_bytes(LOT_HEADERS, rows))
    assert response.status_code == 422
    assert [(d["row"], d["column"]) for d in response.json()["error"]["details"]] == [
        (2, "Producteur"), (3, "Quantité (kg)")]
    assert _post_lots(client, world, uuid.uuid4(), csv_bytes(LOT_HEADERS, rows)
                      ).status_code == 404
    assert _post_lots(client, world, week["id"], csv_bytes(LOT_HEADERS, rows),
                      who="coord2").status_code == 404
    stored = session.get(Week, week["id"])
    assert stored is not None
    stored.status = WeekStatus.published
    session.commit()
    good = csv_bytes(LOT_HEADERS, _lot_rows(week))
    assert _post_lots(client, world, week["id"], good).status_code == 409
    assert session.scalar(select(func.count()).select_from(SupplyLot)
                          .where(SupplyLot.week_id == week["id"])) == 0


def test_lots_window_order_is_checked(client: TestClient, world: World,
                                      week: dict[str, Any]) -> None:
    """The lot schema's own rule (window ends after it starts) lands on the row."""
    rows = _lot_rows(week)
    rows[0][6] = rows[0][5].replace("07:00", "06:00")
    response = _post_lots(client, world, week["id"], csv_bytes(LOT_HEADERS, rows))
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["row"] == 2
    assert "enlèvement" in detail["message"]


VOL_HEADERS = ["E-mail", "Nom", "Secteur", "Latitude", "Longitude", "Véhicule",
               "Capacité (kg)", "Réfrigéré", "Compétences", "Disponibilités", "À distance"]


def _vol_rows() -> list[list[Any]]:
    return [["Camille.Martin@exemple.fr", "Camille Martin", "Marseille 13e", "43,35", "5,43",
             "voiture", "150", "non", "logistics:3, cooking:2",
             "lun 08:00-12:00, mer 14h00-18h00", "oui"],
            ["sami@exemple.fr", "Sami K.", "Marseille 14e", 43.34, 5.39, "", "", "", "", "",
             ""]]


def _post_vols(client: TestClient, world: World, data: bytes, name: str = "v.csv") -> Any:
    return client.post("/api/v1/imports/volunteers", files=upload(data, name),
                       headers=world.auth("coord1"))


def test_volunteers_import_creates_accounts_without_password(
        client: TestClient, session: Session, world: World) -> None:
    """Volunteers are created in the food team with profile and an account that cannot log
    in; re-importing (here as XLSX) changes nothing."""
    response = _post_vols(client, world, csv_bytes(VOL_HEADERS, _vol_rows()))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    user = session.scalars(select(User).where(User.email == "camille.martin@exemple.fr")).one()
    assert user.organisation_id == world.ids["team1"]
    assert not verify_password(user.password_hash, "")
    volunteer = session.scalars(select(Volunteer).where(Volunteer.user_id == user.id)).one()
    assert volunteer.skills == {"logistics": 3, "cooking": 2}
    assert volunteer.availability == [{"weekday": 0, "start": "08:00", "end": "12:00"},
                                      {"weekday": 2, "start": "14:00", "end": "18:00"}]
    assert (volunteer.vehicle_kind.value, volunteer.capacity_kg, volunteer.remote_ok) == (
        "car", 150.0, True)
    again = _post_vols(client, world, xlsx_bytes(VOL_HEADERS, _vol_rows()), "v.xlsx").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_volunteers_problems(client: TestClient, world: World) -> None:
    """A bad e-mail, a car without capacity, an unreadable slot, an e-mail of another account."""
    rows = _vol_rows()
    rows[0][0] = "not-an-email"
    rows[1][5] = "voiture"
    extra = list(_vol_rows()[0])
    extra[0] = world.emails["assoc1"]
    extra[9] = "someday"
    response = _post_vols(client, world, csv_bytes(VOL_HEADERS, [*rows, extra]))
    assert response.status_code == 422
    where = [(d["row"], d["column"]) for d in response.json()["error"]["details"]]
    assert where == [(2, "E-mail"), (3, "Capacité (kg)"), (4, "Disponibilités")]
    extra[9] = ""
    response = _post_vols(client, world, csv_bytes(VOL_HEADERS, [extra]))
    assert [(d["row"], d["column"]) for d in response.json()["error"]["details"]] == [
        (2, "E-mail")]
