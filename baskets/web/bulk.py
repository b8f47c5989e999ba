"""Bulk paste of supply lots: lines copied from a spreadsheet, tab or semicolon separated.

Columns: farmer (name or SIRET); product (name); quantity in kg; price in €/kg; harvest date;
pick-up date; pick-up start (HH:MM); pick-up end (HH:MM). Dates as DD/MM/YYYY or YYYY-MM-DD,
decimals with a comma or a point. A first line that is a header is skipped.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from baskets.web.i18n import PARIS_TZ

COLUMNS = 8
MAX_LINES = 500
_TIME = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")


@dataclass
class ParsedPaste:
    """Rows ready for LotIn (with their line numbers) and the errors found, per line."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _norm(name: str) -> str:
    return " ".join(name.lower().split())


def _decimal(value: str) -> float | None:
    cleaned = value.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("€").removesuffix("kg")
    try:
        return float(cleaned)
    except ValueError:
        return None


def parse_date(value: str) -> date | None:
    """DD/MM/YYYY (French spreadsheets) or ISO YYYY-MM-DD."""
    value = value.strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d-%m-%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def parse_time(value: str) -> time | None:
    """HH:MM, also 7h30 as people type it."""
    match = _TIME.match(value.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_paste(
    text: str,
    *,
    farmers: dict[str, uuid.UUID],
    farmer_sirets: dict[str, uuid.UUID],
    products: dict[str, uuid.UUID],
) -> ParsedPaste:
    """Split, match and convert every line; errors name the line and the column (in French).

    `farmers` and `products` map lower-cased names to ids; `farmer_sirets` maps SIRET to id.
    """
    result = ParsedPaste()
    farmers_n = {_norm(k): v for k, v in farmers.items()}
    products_n = {_norm(k): v for k, v in products.items()}
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        result.errors.append((0, f"Au plus {MAX_LINES} lignes à la fois."))
        return result
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        cells = [cell.strip() for cell in (raw.split("\t") if "\t" in raw else raw.split(";"))]
        while cells and not cells[-1]:
            cells.pop()
        if not result.rows and not result.errors and len(cells) >= 3 \
                and _decimal(cells[2]) is None and _norm(cells[0]) not in farmers_n:
            continue  # a header line
        if len(cells) != COLUMNS:
            result.errors.append((number, f"{COLUMNS} colonnes attendues, {len(cells)} trouvées."))
            continue
        farmer_cell, product_cell, kg, price, harvest, day, start, end = cells
        problems: list[str] = []
        farmer_id = farmers_n.get(_norm(farmer_cell)) or farmer_sirets.get(
            farmer_cell.replace(" ", ""))
        if farmer_id is None:
            problems.append(f"producteur inconnu « {farmer_cell} »")
        product_id = products_n.get(_norm(product_cell))
        if product_id is None:
            problems.append(f"produit inconnu « {product_cell} »")
        quantity, unit_price = _decimal(kg), _decimal(price)
        if quantity is None:
            problems.append("quantité (kg) illisible")
        if unit_price is None:
            problems.append("prix (€/kg) illisible")
        harvest_date, pickup_day = parse_date(harvest), parse_date(day)
        if harvest_date is None:
            problems.append("date de récolte illisible (JJ/MM/AAAA)")
        if pickup_day is None:
            problems.append("jour d'enlèvement illisible (JJ/MM/AAAA)")
        start_time, end_time = parse_time(start), parse_time(end)
        if start_time is None or end_time is None:
            problems.append("heures d'enlèvement illisibles (HH:MM)")
        if problems:
            message = " ; ".join(problems)
            result.errors.append((number, message[0].upper() + message[1:] + "."))
            continue
        assert pickup_day is not None
        assert start_time is not None
        assert end_time is not None
        result.rows.append((number, {
            "farmer_id": farmer_id,
            "product_id": product_id,
            "quantity_kg": quantity,
            "price_per_kg": unit_price,
            "harvest_date": harvest_date,
            "pickup_start": datetime.combine(pickup_day, start_time, tzinfo=PARIS_TZ),
            "pickup_end": datetime.combine(pickup_day, end_time, tzinfo=PARIS_TZ),
        }))
    return result
