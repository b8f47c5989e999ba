"""Bulk paste of supply lots: separators, header, French decimals and dates, errors per line."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from baskets.web.bulk import parse_date, parse_paste, parse_time
from baskets.web.i18n import PARIS_TZ

FARM, LEEK, EGGS = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NAMES = {"farmers": {"Ferme des Paluds": FARM}, "farmer_sirets": {"12345678900017": FARM},
         "products": {"Poireaux": LEEK, "Œufs fermiers (boîte de 6)": EGGS}}


def test_tab_and_semicolon_lines_with_a_header() -> None:
    """A spreadsheet copy (tabs, header, decimal commas) and a semicolon line both parse."""
    text = ("Producteur\tProduit\tkg\tprix\trécolte\tjour\tdébut\tfin\n"
            "Ferme des Paluds\tPoireaux\t120,5\t1,80\t16/11/2026\t18/11/2026\t7h30\t10:00\n"
            "\n"
            "12345678900017 ; œufs fermiers (boîte de 6) ; 40 ; 5 ; 2026-11-15 ; 17/11/2026 ; "
            "08:00 ; 09:00\n")
    parsed = parse_paste(text, **NAMES)
    assert parsed.errors == []
    assert [line for line, _ in parsed.rows] == [2, 4]
    first = parsed.rows[0][1]
    assert first["farmer_id"] == FARM
    assert first["product_id"] == LEEK
    assert first["quantity_kg"] == 120.5
    assert first["price_per_kg"] == 1.8
    assert first["harvest_date"] == date(2026, 11, 16)
    assert first["pickup_start"] == datetime(2026, 11, 18, 7, 30, tzinfo=PARIS_TZ)
    assert parsed.rows[1][1]["product_id"] == EGGS


def test_errors_name_the_line_and_the_problem() -> None:
    """Unknown names, unreadable numbers, dates and column counts are reported by line."""
    text = ("Ferme inconnue;Poireaux;12;1;16/11/2026;18/11/2026;07:00;10:00\n"
            "Ferme des Paluds;Poireaux;douze;1;31/02/2026;18/11/2026;25:00;10:00\n"
            "Ferme des Paluds;Poireaux;12\n")
    parsed = parse_paste(text, **NAMES)
    assert parsed.rows == []
    messages = dict(parsed.errors)
    assert "Producteur inconnu « Ferme inconnue »" in messages[1]
    assert "Quantité" in messages[2]
    assert "récolte" in messages[2]
    assert "heures" in messages[2]
    assert messages[3] == "8 colonnes attendues, 3 trouvées."


def test_date_and_time_formats() -> None:
    """French and ISO dates, and times typed as 7h30 or 07:30."""
    assert parse_date("05/01/2027") == date(2027, 1, 5)
    assert parse_date("2027-01-05") == date(2027, 1, 5)
    assert parse_date("5 janvier") is None
    assert parse_time("7h30") == time(7, 30)
    assert parse_time("24:00") is None
