"""Request dependencies: the unit-of-work session, the current actor, the language, paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, User
from baskets.accounts.security import read_token
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.errors import Unauthorized
from baskets.i18n import negotiate_locale
from baskets.jobs.runner import EXECUTOR_KEY, SETTINGS_KEY

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit when the handler succeeds, roll back otherwise."""
    session: Session = request.app.state.session_factory()
    # Jobs submitted during the request go to the app's executor once the commit is done.
    session.info[EXECUTOR_KEY] = request.app.state.job_executor
    session.info[SETTINGS_KEY] = request.app.state.settings
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# scope="function": the commit happens before the response is sent, so a failed commit
# becomes an error response instead of a 201 for data that was never stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_locale(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return negotiate_locale(request.headers.get("accept-language"), settings.default_locale)


LocaleDep = Annotated[str, Depends(get_locale)]


def get_actor(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Actor:
    """The user behind the bearer token, with their organisation; 401 otherwise."""
    if not token:
        raise Unauthorized("Authentification requise.", "Authentication required.")
    actor = actor_of_token(session, settings, token)
    if actor is None:
        raise Unauthorized("Jeton invalide ou expiré.", "Invalid or expired token.")
    return actor


def actor_of_token(session: Session, settings: Settings, token: str) -> Actor | None:
    """The active user a token names, if its signature, expiry and version still hold (a
    logout, password change or deactivation raised the user's version since: revoked)."""
    claims = read_token(token, secret=settings.secret_key)
    if claims is None:
        return None
    row = session.execute(
        select(User, Organisation).join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == claims.user_id)).first()
    if row is None:
        return None
    user, organisation = row
    if not user.is_active or user.token_version != claims.version:
        return None
    return Actor(user=user, organisation=organisation)


ActorDep = Annotated[Actor, Depends(get_actor)]


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def get_page(
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, description="Page size (capped).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    """Page parameters, with the limit capped by settings rather than refused."""
    return PageParams(limit=min(limit, settings.page_limit_max), offset=offset)


PageDep = Annotated[PageParams, Depends(get_page)]


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Replaying the same key returns the same answer."),
]
