"""Downloadable import templates: the headers of `COLUMNS`, one example row, and a help sheet."""

from __future__ import annotations

import io

import pandas as pd

from baskets.io.columns import COLUMNS, Kind
from baskets.io.export import Format, Table, escape_cell, render

NAMES: dict[Kind, str] = {"households": "modele-foyers", "lots": "modele-lots",
                          "volunteers": "modele-benevoles"}


def template_table(kind: Kind) -> Table:
    """Headers and one example row."""
    columns = COLUMNS[kind]
    frame = pd.DataFrame([[column.example for column in columns]],
                         columns=[column.header for column in columns])
    return Table(name=NAMES[kind], frame=frame)


def help_frame(kind: Kind) -> pd.DataFrame:
    """One line per column: header, required, accepted variants, what to write."""
    return pd.DataFrame([
        {"Colonne": column.header,
         "Obligatoire": "oui" if column.required else "non",
         "Variantes acceptées": ", ".join(column.aliases),
         "Contenu": column.help_fr}
        for column in COLUMNS[kind]
    ])


def template_bytes(kind: Kind, fmt: Format) -> bytes:
    """The template file; the XLSX one has a second sheet documenting every column."""
    table = template_table(kind)
    if fmt == "csv":
        return render(table, "csv")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.frame.map(escape_cell).to_excel(writer, index=False, sheet_name="Import")
        help_frame(kind).map(escape_cell).to_excel(writer, index=False, sheet_name="Aide")
    return buffer.getvalue()
