"""Log in (OAuth2 password form, rate-limited) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from baskets.accounts import service
from baskets.accounts.ratelimit import SlidingWindowLimiter
from baskets.accounts.schemas import MeOut, TokenOut
from baskets.accounts.security import issue_token
from baskets.api.deps import ActorDep, SessionDep, SettingsDep
from baskets.errors import RateLimited, Unauthorized

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut, summary="Se connecter / log in")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    client = request.client.host if request.client else "unknown"
    key = f"{client}|{form.username.lower()}"
    if not limiter.hit(key):
        raise RateLimited(
            "Trop de tentatives de connexion ; réessayez dans une minute.",
            "Too many login attempts; try again in a minute.",
            {"retry_after": limiter.retry_after(key)},
        )
    user = service.authenticate(session, email=form.username, password=form.password)
    if user is None:
        raise Unauthorized("Adresse e-mail ou mot de passe incorrect.", "Wrong e-mail or password.")
    token = issue_token(user.id, secret=settings.secret_key, ttl_minutes=settings.token_ttl_minutes)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.get("/me", response_model=MeOut, summary="Mon compte / my account")
def me(actor: ActorDep) -> MeOut:
    return MeOut.model_validate({"user": actor.user, "organisation": actor.organisation})
