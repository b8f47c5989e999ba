"""One error shape, {"error": {"code", "message", "details"}}, in French or English.

No stack trace ever reaches a user.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from baskets.api.middleware import busy_body
from baskets.config import Settings
from baskets.errors import DomainError
from baskets.i18n import negotiate_locale

logger = logging.getLogger(__name__)

# French renderings of pydantic's error types; {name} fields come from the error's ctx.
_FRENCH: dict[str, str] = {
    "missing": "Champ obligatoire.",
    "extra_forbidden": "Champ inconnu : il n'est pas accepté ici.",
    "int_parsing": "Nombre entier attendu.",
    "int_type": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "float_parsing": "Nombre attendu.",
    "float_type": "Nombre attendu.",
    "finite_number": "Nombre fini attendu.",
    "bool_parsing": "Vrai ou faux attendu.",
    "bool_type": "Vrai ou faux attendu.",
    "string_type": "Texte attendu.",
    "string_too_short": "Texte trop court (au moins {min_length} caractère(s)).",
    "string_too_long": "Texte trop long (au plus {max_length} caractères).",
    "string_pattern_mismatch": "Format invalide.",
    "greater_than": "Doit être strictement supérieur à {gt}.",
    "greater_than_equal": "Doit être supérieur ou égal à {ge}.",
    "less_than": "Doit être strictement inférieur à {lt}.",
    "less_than_equal": "Doit être inférieur ou égal à {le}.",
    "enum": "Valeur non autorisée ; valeurs possibles : {expected}.",
    "literal_error": "Valeur non autorisée ; valeurs possibles : {expected}.",
    "date_parsing": "Date invalide (format AAAA-MM-JJ attendu).",
    "date_from_datetime_parsing": "Date invalide (format AAAA-MM-JJ attendu).",
    "date_type": "Date attendue.",
    "datetime_parsing": "Date et heure invalides (format ISO 8601 attendu).",
    "datetime_from_date_parsing": "Date et heure invalides (format ISO 8601 attendu).",
    "datetime_type": "Date et heure attendues.",
    "timezone_aware": "Fuseau horaire obligatoire dans la date et l'heure.",
    "uuid_parsing": "Identifiant invalide (UUID attendu).",
    "uuid_type": "Identifiant invalide (UUID attendu).",
    "list_type": "Liste attendue.",
    "dict_type": "Objet attendu.",
    "model_type": "Objet attendu.",
    "model_attributes_type": "Objet attendu.",
    "too_short": "Trop peu d'éléments (au moins {min_length}).",
    "too_long": "Trop d'éléments (au plus {max_length}).",
    "json_invalid": "JSON invalide.",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "value_error.email": "Adresse e-mail invalide.",
    "url_parsing": "Adresse invalide.",
    "missing_argument": "Champ obligatoire.",
}


def _french(error: dict[str, Any]) -> str:
    template = _FRENCH.get(error.get("type", ""))
    if template is None:
        return "Valeur invalide."
    ctx = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if error.get("type") in ("value_error", "assertion_error"):
        # Our validators raise ValueError("French message | English message").
        message = ctx.get("error", "")
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return message.split(" | ")[0]
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return "Valeur invalide."


def _english(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "Invalid value."))
    if error.get("type") in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        parts = message.split(" | ")
        return parts[1] if len(parts) > 1 else parts[0]
    return message


def overloaded(exc: BaseException) -> bool:
    """A momentary overload rather than a fault: no database connection free in time (pool
    timeout) or SQLite's write lock still taken after busy_timeout. Answered 503 with
    Retry-After, never 500."""
    if isinstance(exc, SATimeoutError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _locale(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return negotiate_locale(request.headers.get("accept-language"), settings.default_locale)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same shape."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(
            error_body(exc.code, exc.message(_locale(request)), exc.details),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = _locale(request)
        details = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ())),
                "type": err.get("type"),
                "message": _french(err) if locale == "fr" else _english(err),
            }
            for err in exc.errors()
        ]
        message = (
            "Certaines valeurs sont invalides ; rien n'a été enregistré."
            if locale == "fr"
            else "Some values are invalid; nothing was saved."
        )
        return JSONResponse(error_body("invalid", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        locale = _locale(request)
        texts = {
            404: ("Page introuvable.", "Not found."),
            405: ("Méthode non autorisée.", "Method not allowed."),
            413: ("Requête trop volumineuse.", "Request too large."),
        }
        fr, en = texts.get(exc.status_code, ("Requête invalide.", str(exc.detail)))
        return JSONResponse(
            error_body("http_" + str(exc.status_code), fr if locale == "fr" else en),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # Only the constraint name is logged: the row's values may be personal data.
        logger.warning("integrity error: %s", type(exc.orig).__name__)
        locale = _locale(request)
        message = (
            "Cet enregistrement existe déjà ou fait référence à un élément absent ; "
            "rien n'a été enregistré."
            if locale == "fr"
            else "This record already exists or refers to something missing; nothing was saved."
        )
        return JSONResponse(error_body("conflict", message), status_code=409)

    @app.middleware("http")
    async def unexpected_error(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # A middleware, not an exception handler: Starlette re-raises after a handler for
        # Exception answers, and the server would then log a traceback that may hold data.
        try:
            return await call_next(request)
        except Exception as exc:
            locale = _locale(request)
            if overloaded(exc):
                logger.warning("overloaded on %s %s: %s", request.method, request.url.path,
                               type(exc).__name__)
                return JSONResponse(busy_body(locale), status_code=503,
                                    headers={"Retry-After": "1"})
            logger.error("unexpected error on %s %s: %s", request.method, request.url.path,
                         type(exc).__name__)
            message = (
                "Une erreur inattendue est survenue ; rien n'a été enregistré. "
                "L'équipe technique est prévenue."
                if locale == "fr"
                else "An unexpected error occurred; nothing was saved. "
                "The technical team has been notified."
            )
            return JSONResponse(error_body("internal", message), status_code=500)
