"""Keep the English catalogue in step with the French strings of the pages.

`python -m baskets.web.messages` extracts every marked string (templates and Python) and
updates translations/en/LC_MESSAGES/messages.po: new strings arrive untranslated, vanished ones
leave. The test suite fails while any string has no English translation.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from baskets.web.i18n import DOMAIN, TRANSLATIONS_DIR

WEB_DIR = Path(__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract_messages() -> Catalog:
    """Every translatable string of baskets/web."""
    catalog = Catalog(locale="fr", domain=DOMAIN)
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(WEB_DIR), method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], context=context)
    return catalog


def po_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update(locale: str = "en") -> list[str]:
    """Bring the catalogue of `locale` up to date; return the strings still untranslated."""
    template = extract_messages()
    path = po_path(locale)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, include_lineno=False,
                 width=100)
    return [str(m.id) for m in catalog if m.id and not m.string]


if __name__ == "__main__":  # pragma: no cover
    missing = update()
    for message in missing:
        print("untranslated:", message)  # noqa: T201
