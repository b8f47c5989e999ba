"""Shared helpers of the import/export tests: actors, files in every encoding, the world's names."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, User
from baskets.common.scope import Actor
from tests.world import World

TODAY = date.today()
HEADERS = ["Référence", "Nom du contact", "Téléphone", "Adresse", "Adultes", "Enfants",
           "Nourrissons", "Quartier", "Point de distribution", "Catégories exclues", "Motif",
           "Valide jusqu'au", "Date de consentement", "Dernier contact"]
PEOPLE = [("Zoé Lefèvre-Haddad", "06 11 22 33 44", "7 impasse des Cèdres, 13015 Marseille"),
          ("Mehdi Ouarab", "+33 6 55 44 33 22", "21 chemin de la Bigotte"),
          ("Françoise N'Diaye", "07 98 76 54 32", "Bât. C, cité Frais Vallon")]


def fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def actor(session: Session, world: World, who: str) -> Actor:
    user = session.get(User, world.ids[f"user_{who}"])
    assert user is not None
    organisation = session.get(Organisation, user.organisation_id)
    assert organisation is not None
    return Actor(user=user, organisation=organisation)


def household_rows(prefix: str = "IMP", count: int = 3, point: str = "Centre social 1"
                   ) -> list[list[str]]:
    """Valid household rows for assoc1 of the test world."""
    rows = []
    for index in range(count):
        name, phone, address = PEOPLE[index % len(PEOPLE)]
        rows.append([f"{prefix}-{index:04d}", f"{name} {index // len(PEOPLE) or ''}".strip(),
                     phone, address, "2", "1" if index % 2 else "", "0", "Frais Vallon", point,
                     "produits laitiers" if index % 2 else "", "famille monoparentale",
                     fr(TODAY + timedelta(days=180)), fr(TODAY - timedelta(days=30)),
                     fr(TODAY - timedelta(days=3))])
    return rows


def csv_bytes(header: list[str], rows: list[list[Any]], *, sep: str = ";",
              encoding: str = "utf-8", bom: bool = False) -> bytes:
    def cell(raw: Any) -> str:
        value = str(raw).replace(".", ",") if isinstance(raw, float) else str(raw)
        if sep in value or '"' in value or "\n" in value:
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "\r\n".join(sep.join(cell(v) for v in line) for line in [header, *rows]) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "foyers.csv") -> dict[str, Any]:
    return {"file": (name, data, "application/octet-stream")}


def new_id() -> str:
    return str(uuid.uuid4())
