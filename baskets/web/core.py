"""What every page shares: the cookie session, CSRF, rendering, navigation and error pages.

Pages answer HTML, including their errors (French by default, never a stack trace); the JSON
API under /api/ keeps its own error handlers untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from baskets.accounts.models import Role
from baskets.accounts.security import CSRF, sub_key
from baskets.api.deps import SessionDep, SettingsDep, actor_of_token
from baskets.api.errors import overloaded
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.errors import DomainError
from baskets.web.forms import FIELD_LABELS
from baskets.web.i18n import N_, Translator, pick_locale

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"
API_PATH = "/api/"

SESSION_COOKIE = "baskets_session"
VISITOR_COOKIE = "baskets_visitor"
LANG_COOKIE = "baskets_lang"
CSRF_FIELD = "csrf_token"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Navigation per role: adding a page for a role is a template, a route and one line here.
NAV: dict[Role, list[tuple[str, str]]] = {
    Role.coordinator: [
        ("/", N_("Tableau de bord")),
        ("/weeks", N_("Semaines")),
        ("/farmers", N_("Producteurs")),
        ("/jobs", N_("Calculs")),
        ("/matching", N_("Appariement")),
    ],
    Role.association: [
        ("/", N_("Tableau de bord")),
        ("/households", N_("Foyers")),
        ("/points", N_("Points de distribution")),
        ("/engagements", N_("Engagements")),
    ],
    Role.volunteer: [
        ("/", N_("Tableau de bord")),
        ("/rounds", N_("Tournées")),
        ("/profile", N_("Mon profil")),
        ("/engagements", N_("Engagements")),
    ],
    Role.company: [
        ("/", N_("Tableau de bord")),
        ("/offers", N_("Offres de mécénat")),
        ("/engagements", N_("Engagements")),
        ("/report", N_("Heures données")),
    ],
}
NAV[Role.admin] = NAV[Role.coordinator]

ROLE_NAMES = {
    Role.coordinator: N_("Coordination du projet alimentaire"),
    Role.association: N_("Association"),
    Role.volunteer: N_("Bénévole"),
    Role.company: N_("Entreprise"),
    Role.admin: N_("Administration"),
}


class FormExpired(DomainError):
    """A form posted without this browser's CSRF token."""

    status_code = 403
    code = "csrf"


class LoginRequired(Exception):
    """The page needs a logged-in user: the visitor is sent to the login page."""


# ---------------------------------------------------------------- session and CSRF


def _sign(settings: Settings, purpose: str, value: str) -> str:
    # The CSRF sub-key: a form token can never pass for an access token, nor the reverse.
    return hmac.new(sub_key(settings.secret_key, CSRF), f"{purpose}|{value}".encode(),
                    hashlib.sha256).hexdigest()


def _csrf_basis(request: Request) -> str:
    basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(VISITOR_COOKIE)
    if not basis:
        # A first visit: the visitor cookie is set with this response (see render()).
        basis = getattr(request.state, "new_visitor", None) or secrets.token_urlsafe(24)
        request.state.new_visitor = basis
    return basis


def csrf_token(request: Request) -> str:
    """The form token bound to this browser's session (or visitor) cookie."""
    settings: Settings = request.app.state.settings
    return _sign(settings, "csrf", _csrf_basis(request))


def optional_actor(request: Request, session: SessionDep, settings: SettingsDep) -> Actor | None:
    """The user of the session cookie, if it is valid and the account active."""
    token = request.cookies.get(SESSION_COOKIE)
    actor = actor_of_token(session, settings, token) if token else None
    if actor is None:
        return None
    request.state.actor = actor
    return actor


def page_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """The logged-in user, else the visitor goes to the login page."""
    if actor is None:
        raise LoginRequired()
    return actor


OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
PageActorDep = Annotated[Actor, Depends(page_actor)]


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this browser's cookie."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise FormExpired(
            "Le formulaire a expiré ; rechargez la page et recommencez.",
            "The form has expired; reload the page and try again.",
        )
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def safe_next(target: str | None) -> str:
    """A local path to go back to; anything pointing elsewhere becomes the home page."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def redirect(path: str) -> RedirectResponse:
    """See-other redirect after a successful form (post/redirect/get)."""
    return RedirectResponse(path, status_code=303)


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` everywhere but the embedded demo served over plain HTTP (behind a
    TLS proxy the app may see http: the browser still only sends them over HTTPS)."""
    return request.url.scheme == "https" or not getattr(request.app.state, "demo", False)


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax, Secure (see `secure_cookies`)."""
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/")


# ---------------------------------------------------------------- rendering


def translator_for(request: Request) -> Translator:
    settings: Settings = request.app.state.settings
    actor: Actor | None = getattr(request.state, "actor", None)
    return Translator(pick_locale(request.cookies.get(LANG_COOKIE),
                                  actor.user.locale if actor else None,
                                  settings.default_locale))


def flash(request: Request, response: Response, message: str) -> None:
    """A one-line confirmation shown on the next page (kept in a short-lived cookie)."""
    response.set_cookie("baskets_flash", quote(message), max_age=60, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path="/")


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render a page template with the shared context (language, user, navigation, CSRF)."""
    settings: Settings = request.app.state.settings
    t = translator_for(request)
    actor: Actor | None = getattr(request.state, "actor", None)
    flash_message = request.cookies.get("baskets_flash")
    values: dict[str, Any] = {
        "request": request,
        "t": t,
        "_": t.gettext,
        "ngettext": t.ngettext,
        "lang": t.locale,
        "actor": actor,
        "role_name": t.gettext(ROLE_NAMES[actor.role]) if actor else "",
        "nav": [(path, t.gettext(label)) for path, label in NAV.get(actor.role, [])]
        if actor else [],
        "path": request.url.path,
        "current": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "tiles_url": settings.tiles_url,
        "flash": _unquote(flash_message) if flash_message else None,
        "errors": {},
        "field_labels": {name: t.gettext(label) for name, label in FIELD_LABELS.items()},
        "form_error": None,
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if flash_message:
        response.delete_cookie("baskets_flash", path="/")
    new_visitor = getattr(request.state, "new_visitor", None)
    if new_visitor:
        response.set_cookie(VISITOR_COOKIE, new_visitor, httponly=True, samesite="lax",
                            secure=secure_cookies(request), path="/")
    return response


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)[:300]


ERROR_TITLES = {
    400: N_("Requête invalide"),
    403: N_("Accès refusé"),
    404: N_("Page introuvable"),
    405: N_("Page introuvable"),
    409: N_("Opération impossible"),
    413: N_("Envoi trop volumineux"),
    429: N_("Trop de tentatives"),
    500: N_("Erreur inattendue"),
    503: N_("Service très sollicité"),
}
ERROR_TEXTS = {
    403: N_("Votre rôle ne permet pas d'ouvrir cette page."),
    404: N_("Cette page n'existe pas, ou elle ne vous est pas accessible."),
    500: N_("Une erreur inattendue est survenue ; rien n'a été enregistré. "
            "L'équipe technique est prévenue."),
    503: N_("Le service est très sollicité ; réessayez dans un instant. Rien n'a été "
            "enregistré."),
}


def error_page(request: Request, status_code: int, message: str | None = None) -> HTMLResponse:
    """A plain French (or English) error page with a way back; never a stack trace."""
    t = translator_for(request)
    title = t.gettext(ERROR_TITLES.get(status_code, N_("Requête invalide")))
    text = message or t.gettext(ERROR_TEXTS.get(status_code, ERROR_TEXTS[404]))
    if status_code == 405:
        status_code = 404
    return render(request, "error.html", {"status": status_code, "title": title,
                                          "message": text}, status_code=status_code)


def too_large_page(request: Request, limit_bytes: int) -> HTMLResponse:
    """The French (or English) 413 page for a form or file over the size limit."""
    t = translator_for(request)
    response = error_page(request, 413, t.gettext(
        "Fichier trop volumineux (au plus %(mb)s Mo) : rien n'a été enregistré.",
        mb=max(limit_bytes // 1_000_000, 1)))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _content_security_policy(settings: Settings) -> str:
    tiles = urlsplit(settings.tiles_url)
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data:{tile_origin}; connect-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'self'")


class PageRoute(APIRoute):
    """A page route: its errors become HTML error pages, its answers carry security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.url.path.startswith(API_PATH):
                return await original(request)
            try:
                response = await original(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = redirect("/?next=" + quote(target, safe="/"))
                if request.cookies.get(SESSION_COOKIE):
                    response.delete_cookie(SESSION_COOKIE, path="/")
            except DomainError as exc:
                t = translator_for(request)
                response = error_page(request, exc.status_code, exc.message(t.locale))
                if exc.retry_after is not None:
                    response.headers["Retry-After"] = str(exc.retry_after)
            except RequestValidationError:
                # Only malformed ids or query values get here: say "not found", leak nothing.
                response = error_page(request, 404)
            except StarletteHTTPException as exc:
                response = error_page(request, exc.status_code)
            except IntegrityError as exc:
                logger.warning("integrity error on a page: %s", type(exc.orig).__name__)
                response = error_page(request, 409, translator_for(request).gettext(
                    "Cet enregistrement existe déjà ou fait référence à un élément absent ; "
                    "rien n'a été enregistré."))
            except Exception as exc:
                if overloaded(exc):
                    logger.warning("overloaded on %s %s: %s", request.method, request.url.path,
                                   type(exc).__name__)
                    response = error_page(request, 503)
                    response.headers["Retry-After"] = "1"
                else:
                    logger.error("unexpected error on %s %s: %s", request.method,
                                 request.url.path, type(exc).__name__)
                    response = error_page(request, 500)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Content-Security-Policy",
                                        _content_security_policy(request.app.state.settings))
            if isinstance(response, HTMLResponse):
                response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handler
