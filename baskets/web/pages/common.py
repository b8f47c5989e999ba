"""Pages for everyone: the login page (or the dashboard), log out, my account, language."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from baskets.accounts import service as accounts
from baskets.accounts.models import Role
from baskets.accounts.ratelimit import client_address
from baskets.accounts.security import issue_token
from baskets.api.deps import SessionDep, SettingsDep
from baskets.errors import RateLimited, ServiceUnavailable, Unauthorized
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
    secure_cookies,
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
def login(request: Request, form: FormDep, settings: SettingsDep) -> Response:
    """Check the e-mail and password (throttled like the API) and open a cookie session.

    No session dependency: the user is read in a short session of its own and the password
    hashed with no transaction open (accounts.service.log_in)."""
    t = translator_for(request)
    email, password = text(form, "email"), str(form.get("password") or "")
    target = safe_next(text(form, "next"))
    try:
        if not email:
            raise accounts.wrong_credentials()
        user = accounts.log_in(request.app.state.session_factory, email=email,
                               password=password, address=client_address(request, settings),
                               throttle=request.app.state.throttle,
                               gate=request.app.state.hash_gate)
    except (RateLimited, ServiceUnavailable) as exc:
        response = render(request, "login.html", {
            "next": target, "email": email,
            "form_error": t.gettext("Trop de tentatives de connexion ; réessayez dans une "
                                    "minute.") if isinstance(exc, RateLimited)
            else t.gettext("Le service est très sollicité ; réessayez dans un instant. Rien "
                           "n'a été enregistré.")},
            status_code=exc.status_code)
        response.headers["Retry-After"] = str(exc.retry_after or 1)
        return response
    except Unauthorized:
        return render(request, "login.html", {
            "next": target, "email": email,
            "form_error": t.gettext("Adresse e-mail ou mot de passe incorrect.")})
    token = issue_token(user.id, secret=settings.secret_key, version=user.token_version,
                        ttl_minutes=settings.token_ttl_minutes)
    done = redirect(target)
    set_session_cookie(request, done, token, settings.token_ttl_minutes * 60)
    return done


@router.post("/logout")
def logout(request: Request, form: FormDep, actor: OptionalActorDep,
           session: SessionDep) -> Response:
    """Close the session: the cookie goes, and every token of the account stops working."""
    if actor is not None:
        accounts.revoke_sessions(session, user_id=actor.user.id)
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
                        samesite="lax", secure=secure_cookies(request), path="/")
    return response
