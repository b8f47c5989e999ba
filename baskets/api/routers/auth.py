"""Log in (OAuth2 password form, throttled), log out, change one's password, who am I."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from baskets.accounts import service
from baskets.accounts.ratelimit import client_address
from baskets.accounts.schemas import MeOut, PasswordChange, TokenOut
from baskets.accounts.security import issue_token
from baskets.api.deps import ActorDep, SessionDep, SettingsDep
from baskets.config import Settings

router = APIRouter(tags=["auth"])


def token_for(user_id: uuid.UUID, version: int, settings: Settings) -> TokenOut:
    """A fresh access token at the user's current token version."""
    token = issue_token(user_id, secret=settings.secret_key, version=version,
                        ttl_minutes=settings.token_ttl_minutes)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_minutes * 60)


# No session dependency: the user is read in a short session of its own and the password is
# hashed with no transaction open (accounts.service.log_in).
@router.post("/auth/token", response_model=TokenOut, summary="Se connecter / log in",
             responses={429: {"description": "Too many attempts (Retry-After)"},
                        503: {"description": "Busy (Retry-After)"}})
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
) -> TokenOut:
    user = service.log_in(request.app.state.session_factory, email=form.username,
                          password=form.password, address=client_address(request, settings),
                          throttle=request.app.state.throttle, gate=request.app.state.hash_gate)
    return token_for(user.id, user.token_version, settings)


@router.post("/auth/logout", status_code=204, response_class=Response,
             summary="Se déconnecter partout / log out everywhere")
def logout(actor: ActorDep, session: SessionDep) -> Response:
    """End every session of the account (this token and any other)."""
    service.revoke_sessions(session, user_id=actor.user.id)
    return Response(status_code=204)


@router.post("/me/password", response_model=TokenOut,
             summary="Changer mon mot de passe / change my password")
def change_password(data: PasswordChange, request: Request, actor: ActorDep,
                    session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Every other session ends; the answer carries a new token for this one."""
    user = service.change_password(session, actor=actor, current_password=data.current_password,
                                   new_password=data.new_password,
                                   gate=request.app.state.hash_gate)
    return token_for(user.id, user.token_version, settings)


@router.get("/me", response_model=MeOut, summary="Mon compte / my account")
def me(actor: ActorDep) -> MeOut:
    return MeOut.model_validate({"user": actor.user, "organisation": actor.organisation})
