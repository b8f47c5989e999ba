"""Language negotiation: French by default, English when the client prefers it."""

from __future__ import annotations

SUPPORTED_LOCALES = ("fr", "en")


def negotiate_locale(accept_language: str | None, default: str = "fr") -> str:
    """Pick 'fr' or 'en' from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        # Earlier entries win ties, as browsers list preferences in order.
        score = q - index * 1e-6
        if lang in SUPPORTED_LOCALES and score > best_q:
            best, best_q = lang, score
    return best
