"""Read an uploaded spreadsheet (CSV or XLSX) into a header and rows of plain strings.

Everything format-specific ends here: encodings, byte-order marks, separators, Excel cells.
What comes out is a `Sheet` whose rows are numbered as the user sees them in a spreadsheet
(the header is row 1, the first data row is row 2).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from baskets.errors import InvalidInput, PayloadTooLarge

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other OLE documents)
SEPARATORS = (";", ",", "\t")


@dataclass(frozen=True)
class Sheet:
    """A table read from a file: its header and rows, every cell a stripped string."""

    header: list[str]
    rows: list[list[str]]
    # The spreadsheet row number of each data row (blank rows are skipped, not renumbered).
    numbers: list[int]
    # (row number, column index) of cells that held a formula, from XLSX files.
    formulas: set[tuple[int, int]] = field(default_factory=set)
    format: str = "csv"


class UnreadableFile(InvalidInput):
    """A file that cannot be read as a table at all."""


def unreadable(reason_fr: str, reason_en: str) -> UnreadableFile:
    """The error of a file that cannot be read at all."""
    return UnreadableFile(
        f"Fichier illisible : {reason_fr} Rien n'a été enregistré.",
        f"Unreadable file: {reason_en} Nothing was saved.",
    )


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise unreadable("encodage UTF-16 invalide.", "invalid UTF-16 encoding.") from exc
    if b"\x00" in data:
        raise unreadable(
            "ce n'est ni un fichier CSV ni un classeur XLSX (contenu binaire).",
            "it is neither a CSV file nor an XLSX workbook (binary content).",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise unreadable(
            "encodage inconnu (UTF-8 ou Windows-1252 attendu).",
            "unknown encoding (UTF-8 or Windows-1252 expected).",
        ) from exc
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\r\n\t")
    return controls > max(2, len(sample) // 100)


def _separator(text: str) -> str:
    """The separator that splits the header line into the most columns (quotes respected)."""
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    best, best_count = ",", 0
    for sep in SEPARATORS:
        try:
            count = len(next(csv.reader([first], delimiter=sep)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = sep, count
    return best


_LINE = re.compile(r"line (\d+)")


def too_many_rows(max_rows: int) -> UnreadableFile:
    """The error of a file with more rows than an import reads."""
    return UnreadableFile(
        f"Fichier trop long : au plus {max_rows} lignes par import ; découpez-le en "
        "plusieurs fichiers. Rien n'a été enregistré.",
        f"File too long: at most {max_rows} rows per import; split it into several files. "
        "Nothing was saved.",
    )


def _read_csv(data: bytes, max_rows: int) -> Sheet:
    # Counted before parsing: pandas would read every line first.
    if data.count(b"\n") > max_rows + 1000:
        raise too_many_rows(max_rows)
    text = _decode(data)
    if not text.strip():
        raise unreadable("le fichier est vide.", "the file is empty.")
    if _looks_binary(text):
        raise unreadable(
            "ce n'est ni un fichier CSV ni un classeur XLSX (contenu binaire).",
            "it is neither a CSV file nor an XLSX workbook (binary content).",
        )
    sep = _separator(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError as exc:
        raise unreadable("le fichier est vide.", "the file is empty.") from exc
    except pd.errors.ParserError as exc:
        match = _LINE.search(str(exc))
        where_fr = f" à la ligne {match.group(1)}" if match else ""
        where_en = f" on line {match.group(1)}" if match else ""
        raise unreadable(
            f"nombre de colonnes incohérent{where_fr} (séparateur « {sep} »).",
            f"inconsistent number of columns{where_en} (separator '{sep}').",
        ) from exc
    frame = frame.fillna("")
    values: list[list[str]] = [[str(cell).strip() for cell in row]
                               for row in frame.to_numpy().tolist()]
    return _sheet(values, set(), "csv")


def _sheet(values: list[list[str]], formulas: set[tuple[int, int]], fmt: str) -> Sheet:
    """Drop blank rows, keeping each remaining row's spreadsheet number."""
    kept = [(number, row) for number, row in enumerate(values, start=1) if any(row)]
    if not kept:
        raise unreadable("le fichier est vide.", "the file is empty.")
    header = kept[0][1]
    return Sheet(header=header, rows=[row for _, row in kept[1:]],
                 numbers=[number for number, _ in kept[1:]], formulas=formulas, format=fmt)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value).strip()


# XML that declares a DTD or entities (XXE, "billion laughs"): never parsed.
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROW_TAG = b"<row"
_CHUNK = 1 << 20


def check_workbook(data: bytes, *, max_rows: int, max_uncompressed: int) -> None:
    """Refuse, before any parsing, a workbook whose content inflates past the limit (zip
    bomb), whose XML declares a DTD or entities, or whose sheets hold more rows than an
    import reads (counted on the raw XML: a million empty rows weigh a few hundred KB)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable("classeur XLSX endommagé.", "damaged XLSX workbook.") from exc
    if sum(member.file_size for member in members) > max_uncompressed:
        raise unreadable(
            f"contenu décompressé trop volumineux (au plus {max_uncompressed // 1_000_000} Mo).",
            f"uncompressed content too large (at most {max_uncompressed // 1_000_000} MB).")
    for member in members:
        if not member.filename.endswith((".xml", ".rels")):
            continue
        rows, tail = 0, b""
        try:
            with archive.open(member) as stream:
                read = 0
                while chunk := stream.read(_CHUNK):
                    read += len(chunk)
                    if read > max_uncompressed:
                        raise unreadable("contenu décompressé trop volumineux.",
                                         "uncompressed content too large.")
                    window = tail + chunk
                    if _DOCTYPE.search(window):
                        raise unreadable(
                            "le classeur déclare des entités XML (refusées par sécurité).",
                            "the workbook declares XML entities (refused for safety).")
                    rows += window.count(_ROW_TAG) - tail.count(_ROW_TAG)
                    if rows > max_rows + 1:
                        raise too_many_rows(max_rows)
                    tail = window[-16:]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise unreadable("classeur XLSX endommagé.", "damaged XLSX workbook.") from exc


def _read_xlsx(data: bytes, max_rows: int, max_uncompressed: int) -> Sheet:
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    check_workbook(data, max_rows=max_rows, max_uncompressed=max_uncompressed)
    damaged = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, ParseError,
               SyntaxError, IndexError, AttributeError, EOFError)
    try:
        # data_only=False keeps formulas visible so they can be refused, never evaluated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except damaged as exc:
        raise unreadable("classeur XLSX endommagé.", "damaged XLSX workbook.") from exc
    try:
        sheet = workbook.worksheets[0]
        formulas: set[tuple[int, int]] = set()
        rows: list[list[str]] = []
        for row in sheet.iter_rows():
            if len(rows) > max_rows:
                raise too_many_rows(max_rows)
            texts = []
            for index, cell in enumerate(row):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or (
                    isinstance(value, str) and value.startswith("=")
                ):
                    formulas.add((len(rows) + 1, index))
                texts.append(_cell_text(value))
            rows.append(texts)
    except UnreadableFile:
        raise
    except damaged as exc:
        # Sheets are parsed while iterating (read-only mode): malformed XML surfaces here.
        raise unreadable("classeur XLSX endommagé.", "damaged XLSX workbook.") from exc
    finally:
        workbook.close()
    if not rows:
        raise unreadable("le classeur est vide.", "the workbook is empty.")
    width = max(len(row) for row in rows)
    return _sheet([row + [""] * (width - len(row)) for row in rows], formulas, "xlsx")


def read_sheet(data: bytes, *, max_bytes: int, max_rows: int = 200_000,
               max_uncompressed: int = 200_000_000) -> Sheet:
    """Read CSV (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252; BOM or not) or XLSX,
    refusing (422) files with more than `max_rows` rows or XLSX content inflating past
    `max_uncompressed` bytes, before parsing them."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"Fichier trop volumineux (au plus {max_bytes // 1_000_000} Mo). "
            "Rien n'a été enregistré.",
            f"File too large (at most {max_bytes // 1_000_000} MB). Nothing was saved.",
        )
    if not data.strip():
        raise unreadable("le fichier est vide.", "the file is empty.")
    if data.startswith(XLSX_MAGIC):
        sheet = _read_xlsx(data, max_rows, max_uncompressed)
    elif data.startswith(OLE_MAGIC):
        raise unreadable(
            "l'ancien format .xls n'est pas lu ; enregistrez le classeur en .xlsx ou en CSV.",
            "the old .xls format is not read; save the workbook as .xlsx or CSV.",
        )
    else:
        sheet = _read_csv(data, max_rows)
    if not any(sheet.header):
        raise unreadable("la première ligne doit porter les en-têtes de colonnes.",
                         "the first row must hold the column headers.")
    if not sheet.rows:
        raise unreadable("aucune ligne de données sous les en-têtes.",
                         "no data rows under the headers.")
    if len(sheet.rows) > max_rows:
        raise too_many_rows(max_rows)
    return sheet
