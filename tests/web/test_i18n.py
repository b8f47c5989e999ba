"""The English catalogue is complete and consistent with the French strings of the pages."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from baskets.web.i18n import Translator, catalogue, pick_locale
from baskets.web.messages import extract_messages, po_path

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _english() -> dict[object, object]:
    with po_path("en").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    return {message.id: message.string for message in catalog if message.id}


def test_every_page_string_has_an_english_translation() -> None:
    """Every marked string of templates and code is in the .po, translated; none is left over."""
    extracted = {message.id for message in extract_messages() if message.id}
    english = _english()
    assert len(extracted) > 200
    assert extracted - set(english) == set(), "run python -m baskets.web.messages"
    assert set(english) - extracted == set(), "run python -m baskets.web.messages"
    untranslated = [key for key, value in english.items()
                    if not value or (isinstance(value, tuple) and not all(value))]
    assert untranslated == []


def test_translations_keep_their_placeholders() -> None:
    """A translation uses exactly the %(name)s placeholders of its French source."""
    for source, target in _english().items():
        sources = source if isinstance(source, tuple) else (source,)
        targets = target if isinstance(target, tuple) else (target,)
        for french, english in zip(sources, targets, strict=False):
            assert set(PLACEHOLDER.findall(str(french))) == set(
                PLACEHOLDER.findall(str(english))), (french, english)


def test_french_by_default_and_english_on_request() -> None:
    """French unless chosen otherwise; English formats numbers, dates and plurals its way."""
    assert pick_locale(None, None, "fr") == "fr"
    assert pick_locale(None, "en", "fr") == "en"
    assert pick_locale("fr", "en", "fr") == "fr"
    assert pick_locale("de", None, "fr") == "fr"
    english, french = Translator("en"), Translator("fr")
    assert english.gettext("Se connecter") == "Log in"
    assert french.gettext("Se connecter") == "Se connecter"
    assert english.ngettext("%(num)s foyer", "%(num)s foyers", 1234) == "1,234 households"
    assert french.ngettext("%(num)s foyer", "%(num)s foyers", 1) == "1 foyer"
    assert french.number(2746.14, 1) == "2\u202f746,1"
    assert english.weekday(5) == "Saturday"
    assert french.weekday(5) == "samedi"
    assert catalogue("en") is catalogue("en")  # compiled once
