"""Reading cells and headers: French dates and decimals, lists, slots, header variants."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from baskets.io.columns import (
    COLUMNS,
    CellError,
    header_index,
    normalise,
    read_availability,
    read_bool,
    read_date,
    read_datetime,
    read_int,
    read_number,
    read_skills,
)
from baskets.io.reading import UnreadableFile, read_sheet


def test_french_dates_and_iso() -> None:
    """dd/mm/yyyy, dd-mm-yyyy and ISO read; 31/02 and 2026/13/01 are refused in French."""
    assert read_date("05/11/2026") == read_date("5-11-2026") == read_date("2026-11-05") == \
        date(2026, 11, 5)
    with pytest.raises(CellError, match="does not exist"):
        read_date("31/02/2026")
    with pytest.raises(CellError) as caught:
        read_date("2026/13/01")
    assert "JJ/MM/AAAA" in caught.value.message_fr


def test_local_datetimes_carry_the_zone() -> None:
    """'24/11/2026 07:00' is 07:00 in Paris (UTC+1 in November)."""
    value = read_datetime("24/11/2026 07:00", ZoneInfo("Europe/Paris"))
    assert value.utcoffset() is not None
    assert value.isoformat() == "2026-11-24T07:00:00+01:00"


@pytest.mark.parametrize(("text", "expected"), [
    ("1,5", 1.5), ("1.5", 1.5), ("1 234,5", 1234.5), ("1.234,5", 1234.5), ("-2", -2.0),
    ("1\u202f000", 1000.0),
])
def test_decimal_commas(text: str, expected: float) -> None:
    """Decimal comma or point, spaces and dots as thousands separators."""
    assert read_number(text) == expected


def test_bad_numbers_bools_and_whole_numbers() -> None:
    """'12 kg', 'peut-être' and 2,5 children are refused."""
    with pytest.raises(CellError):
        read_number("12 kg")
    with pytest.raises(CellError):
        read_bool("peut-être")
    with pytest.raises(CellError):
        read_int("2,5")
    assert read_int("3,0") == 3
    assert (read_bool("Oui"), read_bool("x"), read_bool("NON")) == (True, True, False)


def test_slots_and_skills() -> None:
    """Weekly slots in French or English spelling; skills with levels."""
    assert read_availability("Lundi 8h00 à 12h00; wed 14:00-18:00") == [
        {"weekday": 0, "start": "08:00", "end": "12:00"},
        {"weekday": 2, "start": "14:00", "end": "18:00"}]
    assert read_skills("logistics:3, web=2, cooking") == {"logistics": 3, "web": 2, "cooking": 1}
    with pytest.raises(CellError):
        read_availability("whenever")


def test_every_header_variant_is_unique_per_import() -> None:
    """No two columns of one import share a header or variant once normalised."""
    for kind, columns in COLUMNS.items():
        names = [name for c in columns
                 for name in {normalise(n) for n in (c.header, c.header_en, c.field, *c.aliases)}]
        assert len(names) == len(set(names)), kind
        assert normalise("N° de téléphone") in header_index("households")
        assert header_index("households")[normalise("TÉL.")].field == "phone"


def test_reader_limits() -> None:
    """Over the size limit is a 413-kind error; a UTF-16 file reads like UTF-8."""
    from baskets.errors import PayloadTooLarge

    with pytest.raises(PayloadTooLarge):
        read_sheet(b"a;b\r\n1;2\r\n", max_bytes=5)
    sheet = read_sheet("Référence;Adultes\r\nA-1;2\r\n".encode("utf-16"), max_bytes=1000)
    assert (sheet.header, sheet.rows, sheet.numbers) == (["Référence", "Adultes"], [["A-1", "2"]],
                                                         [2])
    with pytest.raises(UnreadableFile):
        read_sheet(b"\x00\x01\x02" * 50, max_bytes=1000)


def test_blank_rows_keep_spreadsheet_numbers() -> None:
    """A blank line in the middle does not shift the row numbers of the rows below."""
    sheet = read_sheet(b"a;b\r\n1;2\r\n;\r\n3;4\r\n", max_bytes=1000)
    assert sheet.numbers == [2, 4]
