"""Page translations: French source strings, English from a gettext catalogue.

The catalogue is read from its .po file and compiled in memory at first use, so a fresh clone
needs no build step and a compiled .mo can never be stale.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from baskets.i18n import SUPPORTED_LOCALES

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
# The territories served are in metropolitan France.
PARIS_TZ = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=4)
def catalogue(locale: str) -> gettext.NullTranslations:
    """Translations for `locale`; French (the source language) translates to itself."""
    path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "fr" or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Everything a template needs to speak one language."""

    locale: str

    @property
    def babel_locale(self) -> str:
        return BABEL_LOCALES.get(self.locale, "fr_FR")

    def gettext(self, message: str, **values: Any) -> str:
        """The translation of `message`, with %(name)s placeholders filled from `values`."""
        text = catalogue(self.locale).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """Singular or plural form for `n`; %(num)s is `n`."""
        text = catalogue(self.locale).ngettext(singular, plural, n)
        return text % {"num": self.number(n), **values}

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """A number in the locale's style (narrow no-break space for thousands in French)."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.babel_locale)

    def date(self, value: date | None, style: str = "medium") -> str:
        """A date in the locale's style, e.g. « 23 nov. 2026 »."""
        if value is None:
            return "—"
        return format_date(value, format=style, locale=self.babel_locale)

    def datetime(self, value: datetime | None, style: str = "d MMM HH:mm") -> str:
        """A date and time in Paris time (the territories' time zone)."""
        if value is None:
            return "—"
        return format_datetime(value, format=style, tzinfo=PARIS_TZ, locale=self.babel_locale)

    def weekday(self, index: int) -> str:
        """Monday is 0, as in the opening hours and availability slots."""
        return self.gettext(WEEKDAYS[index]) if 0 <= index < 7 else "?"


def pick_locale(choice: str | None, account_locale: str | None, default: str) -> str:
    """An explicit choice, else the account's language, else the default (French)."""
    for candidate in (choice, account_locale, default):
        if candidate in SUPPORTED_LOCALES:
            return candidate
    return "fr"


# Markers only: the strings are translated where they are shown.
def N_(message: str) -> str:  # noqa: N802 - the gettext convention for deferred strings
    """Mark a string for extraction without translating it yet."""
    return message


WEEKDAYS = (N_("lundi"), N_("mardi"), N_("mercredi"), N_("jeudi"), N_("vendredi"),
            N_("samedi"), N_("dimanche"))
