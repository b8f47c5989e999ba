"""Reason texts for matching decisions, in French and English.

Every decision the matching solvers take (an assignment, a need left uncovered, a round
without driver, a proposed replacement) carries `Reason` objects. A reason keeps a stable
`code` (for filtering and tests) and the sentence in both languages, so the service layer can
show the user's language without calling the solver again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Locale = Literal["fr", "en"]
LOCALES: tuple[Locale, ...] = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Reason:
    """One plain-language reason, with a stable code and its French and English texts."""

    code: str
    fr: str
    en: str

    def text(self, locale: Locale = "fr") -> str:
        """Return the sentence in `locale` ("fr" or "en")."""
        return self.fr if locale == "fr" else self.en


def check_locale(locale: str) -> Locale:
    """Return `locale` if it is supported, else raise ValueError (bilingual message)."""
    if locale == "fr":
        return "fr"
    if locale == "en":
        return "en"
    raise ValueError(
        f"langue non prise en charge / unsupported locale: {locale!r} (use 'fr' or 'en')"
    )


def texts(reasons: tuple[Reason, ...], locale: Locale = "fr") -> list[str]:
    """Return the sentences of `reasons` in `locale`, in order."""
    return [r.text(locale) for r in reasons]


def num_en(x: float) -> str:
    """Format hours or kilometres for English text: at most one decimal, no trailing zero."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def num_fr(x: float) -> str:
    """Format a number for French text: decimal comma, at most one decimal."""
    return num_en(x).replace(".", ",")


def pct_en(share: float) -> str:
    """Format a share (0..1) as a whole percentage, English style."""
    return f"{round(100 * share)}%"


def pct_fr(share: float) -> str:
    """Format a share (0..1) as a whole percentage, French style (narrow space before %)."""
    return f"{round(100 * share)}\u00a0%"
