"""The weekly report as an XLSX workbook: a summary sheet, then one sheet per section."""

from __future__ import annotations

import pandas as pd

from baskets.io.export import Table, render_workbook
from baskets.reports.service import Report


def report_tables(report: Report, locale: str = "fr") -> list[Table]:
    """The summary of every headline figure, then each available section's table."""
    en = locale == "en"
    summary = [(section.en if en else section.fr, figure.en if en else figure.fr,
                figure.value, figure.unit)
               for section in report.sections for figure in section.figures]
    headers = (["Section", "Figure", "Value", "Unit"] if en
               else ["Partie", "Indicateur", "Valeur", "Unité"])
    tables = [Table(name="Summary" if en else "Résumé",
                    frame=pd.DataFrame(summary, columns=headers))]
    for section in report.sections:
        if not section.available:
            note = section.note_en if en else section.note_fr
            frame = pd.DataFrame({"Note": [note]})
        else:
            frame = pd.DataFrame([[row.get(c.key) for c in section.columns]
                                  for row in section.rows],
                                 columns=[c.title(locale) for c in section.columns])
        tables.append(Table(name=section.en if en else section.fr, frame=frame))
    return tables


def report_workbook(report: Report, locale: str = "fr") -> bytes:
    return render_workbook(report_tables(report, locale))
