"""Pages for everyone: the login page (or the dashboard), log out, my account, language."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from baskets.accounts import service as accounts
from baskets.accounts.models import Role
from baskets.accounts.ratelimit import SlidingWindowLimiter
from baskets.accounts.security import issue_token
from baskets.api.deps import SessionDep, SettingsDep
from baskets.i18n import SUPPORTED_LOCALES
from baskets.web import dashboards
from baskets.web.core import (
    LANG_COOKIE,
    SESSION_COOKIE,
    FormDep,
    OptionalActorDep,
    PageActorDep,
    PageRoute,
    error_page,
    redirect,
    render,
    safe_next,
    set_session_cookie,
    translator_for,
)
from baskets.web.forms import text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, actor: OptionalActorDep, session: SessionDep,
         next: str | None = None) -> Response:
    """Visitors get the login page; users their role's dashboard."""
    if actor is None:
        return render(request, "login.html", {"next": safe_next(next), "email": ""})
    if next and safe_next(next) != "/":
        return redirect(safe_next(next))
    return dashboards.render_dashboard(request, session, actor)


@router.post("/login")
def login(request: Request, form: FormDep, session: SessionDep, settings: SettingsDep
          ) -> Response:
    """Check the e-mail and password (rate-limited like the API) and open a cookie session."""
    t = translator_for(request)
    email, password = text(form, "email"), str(form.get("password") or "")
    target = safe_next(text(form, "next"))
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"
    key = f"{client}|{email.lower()}"
    if not limiter.hit(key):
        return render(request, "login.html", {
            "next": target, "email": email,
            "form_error": t.gettext("Trop de tentatives de connexion ; réessayez dans une "
                                    "minute.")}, status_code=429)
    user = accounts.authenticate(session, email=email, password=password) if email else None
    if user is None:
        return render(request, "login.html", {
            "next": target, "email": email,
            "form_error": t.gettext("Adresse e-mail ou mot de passe incorrect.")})
    token = issue_token(user.id, secret=settings.secret_key,
                        ttl_minutes=settings.token_ttl_minutes)
    response = redirect(target)
    set_session_cookie(request, response, token, settings.token_ttl_minutes * 60)
    return response


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    """Close the cookie session."""
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account")
def account(request: Request, actor: PageActorDep) -> Response:
    """My account: who I am, my organisation, my language."""
    return render(request, "account.html", {"user": actor.user,
                                            "organisation": actor.organisation,
                                            "is_admin": actor.role is Role.admin})


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    if code not in SUPPORTED_LOCALES:
        return error_page(request, 404)
    response = redirect(safe_next(next))
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return response
