"""Accounts: log in, sessions (revocation), passwords, organisations and users.

Password hashing is slow on purpose: it never runs inside a transaction (the rows it needs
are read first, in a short session of their own, and the transaction ends before hashing).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.accounts.passwords import password_problem
from baskets.accounts.ratelimit import Throttle
from baskets.accounts.schemas import OrganisationIn, UserIn
from baskets.accounts.security import hash_password, verify_password
from baskets.common.scope import Actor, get_from
from baskets.config import Settings
from baskets.errors import InvalidInput, NotFound, ServiceUnavailable, Unauthorized
from baskets.territory.models import Territory

# Which organisation kind each role belongs to.
ROLE_KINDS: dict[Role, OrganisationKind] = {
    Role.admin: OrganisationKind.food_team,
    Role.coordinator: OrganisationKind.food_team,
    Role.volunteer: OrganisationKind.food_team,
    Role.association: OrganisationKind.association,
    Role.company: OrganisationKind.company,
}

# Verified against when the e-mail is unknown, so every failure takes the same time.
_DUMMY_HASH = hash_password("not-a-real-password")
USER = ("Utilisateur", "User")


class HashGate:
    """At most `password_hash_concurrency` argon2 computations at once in this process: a
    burst of logins waits a little, then gets 503, instead of taking every core and thread."""

    def __init__(self, settings: Settings) -> None:
        self._slots = threading.BoundedSemaphore(settings.password_hash_concurrency)
        self._wait = settings.password_hash_wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a hashing slot, or raise ServiceUnavailable when none frees up in time."""
        if not self._slots.acquire(timeout=self._wait):
            raise ServiceUnavailable(retry_after=max(1, round(self._wait)))
        try:
            yield
        finally:
            self._slots.release()


def wrong_credentials() -> Unauthorized:
    """The one answer of every failed login: unknown e-mail, wrong password, disabled."""
    return Unauthorized("Adresse e-mail ou mot de passe incorrect.", "Wrong e-mail or password.")


def log_in(factory: sessionmaker[Session], *, email: str, password: str, address: str,
           throttle: Throttle, gate: HashGate) -> User:
    """The active user with this e-mail and password; else 401, 429 (throttled) or 503.

    Attempts are counted per client address, failures per account (whatever the address)
    and attempts on unknown e-mails globally. The user is read in a short session closed
    before the password is hashed, so no transaction or connection waits on argon2; unknown,
    disabled and known accounts all run exactly one hash.
    """
    if not throttle.hit(throttle.per_address, address):
        raise throttle.refuse(throttle.per_address, address,
                              "Trop de tentatives de connexion ; réessayez dans une minute.",
                              "Too many login attempts; try again in a minute.")
    with factory() as session:
        user = session.scalars(
            select(User).where(func.lower(User.email) == email.lower())).first()
    if user is None:
        if not throttle.hit(throttle.unknown_accounts, "*"):
            raise throttle.refuse(throttle.unknown_accounts, "*",
                                  "Trop de tentatives de connexion ; réessayez dans une minute.",
                                  "Too many login attempts; try again in a minute.")
        with gate.slot():
            verify_password(_DUMMY_HASH, password)
        raise wrong_credentials()
    account = str(user.id)
    if not throttle.allowed(throttle.per_account, account):
        raise throttle.refuse(throttle.per_account, account,
                              "Trop d'échecs sur ce compte ; réessayez plus tard.",
                              "Too many failures on this account; try again later.")
    with gate.slot():
        matches = verify_password(user.password_hash, password)
    if not matches or not user.is_active:
        throttle.hit(throttle.per_account, account)
        raise wrong_credentials()
    return user


def end_reads(session: Session) -> None:
    """Close the transaction that only read so far (the actor's lookup) before slow work such
    as hashing: nothing is written yet, so committing it changes nothing."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("end_reads() called with pending writes")
    session.commit()


def revoke_sessions(session: Session, *, user_id: uuid.UUID) -> None:
    """End every session of the account: tokens issued before no longer open anything.

    Called by logout, password change and deactivation (and password reset pages to come).
    """
    session.execute(update(User).where(User.id == user_id)
                    .values(token_version=User.token_version + 1)
                    .execution_options(synchronize_session=False))
    session.flush()
    refreshed = session.get(User, user_id)
    if refreshed is not None:
        session.refresh(refreshed, ["token_version"])


def new_password_hash(password: str, *, email: str, field: str = "password") -> str:
    """The hash of an acceptable new password (422 for a common one or one holding the
    e-mail); call it with no transaction open."""
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidInput(problem[0], problem[1], [{"field": field, "message": problem[0]}])
    return hash_password(password)


def change_password(session: Session, *, actor: Actor, current_password: str,
                    new_password: str, gate: HashGate) -> User:
    """Change one's own password (the current one is asked); every session ends with it."""
    end_reads(session)
    with gate.slot():
        if not verify_password(actor.user.password_hash, current_password):
            raise InvalidInput(
                "Le mot de passe actuel est incorrect.", "The current password is wrong.",
                [{"field": "current_password", "message": "Mot de passe incorrect."}])
        password_hash = new_password_hash(new_password, email=actor.user.email,
                                          field="new_password")
    user = session.get(User, actor.user.id)
    assert user is not None  # the actor's own row
    user.password_hash = password_hash
    session.flush()
    revoke_sessions(session, user_id=user.id)
    return user


def deactivate_user(session: Session, *, actor: Actor, user_id: uuid.UUID) -> User:
    """Disable an account (admins): it can no longer log in and its sessions end now."""
    actor.require(Role.admin)
    user = get_from(session, select(User), User, user_id, USER)
    user.is_active = False
    session.flush()
    revoke_sessions(session, user_id=user.id)
    return user


def create_organisation(session: Session, *, data: OrganisationIn) -> Organisation:
    """Create an organisation in an existing territory."""
    if session.get(Territory, data.territory_id) is None:
        raise InvalidInput(
            "Territoire inconnu.",
            "Unknown territory.",
            [{"field": "territory_id", "message": "Territoire inconnu."}],
        )
    organisation = Organisation(**data.model_dump())
    session.add(organisation)
    session.flush()
    return organisation


def list_organisations(actor: Actor) -> Select[Organisation]:
    """Query of the organisations an actor may see: all for an admin, else their own."""
    query = select(Organisation).order_by(Organisation.name)
    if actor.role is not Role.admin:
        query = query.where(Organisation.id == actor.organisation_id)
    return query


def get_organisation(session: Session, *, actor: Actor, organisation_id: uuid.UUID) -> Organisation:
    """An organisation the actor may see (admin: any; others: their own), else 404."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or (
        actor.role is not Role.admin and organisation.id != actor.organisation_id
    ):
        raise NotFound("Organisation", "Organisation")
    return organisation


def create_user(session: Session, *, data: UserIn, password_hash: str) -> User:
    """Create a user whose role fits their organisation's kind, with a unique e-mail.

    `password_hash` is computed beforehand, outside the transaction (`new_password_hash`).
    """
    organisation = session.get(Organisation, data.organisation_id)
    if organisation is None:
        raise InvalidInput(
            "Organisation inconnue.",
            "Unknown organisation.",
            [{"field": "organisation_id", "message": "Organisation inconnue."}],
        )
    if ROLE_KINDS[data.role] is not organisation.kind:
        raise InvalidInput(
            f"Le rôle « {data.role.value} » ne convient pas à une organisation de type "
            f"« {organisation.kind.value} ».",
            f"Role '{data.role.value}' does not fit an organisation of kind "
            f"'{organisation.kind.value}'.",
            [{"field": "role", "message": "Rôle incompatible avec l'organisation."}],
        )
    if email_taken(session, data.email):
        raise InvalidInput(
            "Cette adresse e-mail a déjà un compte.",
            "This e-mail address already has an account.",
            [{"field": "email", "message": "Adresse déjà utilisée."}],
        )
    user = User(
        organisation_id=organisation.id,
        email=data.email.lower(),
        full_name=data.full_name,
        role=data.role,
        password_hash=password_hash,
        locale=data.locale,
    )
    session.add(user)
    session.flush()
    return user


def email_taken(session: Session, email: str) -> bool:
    """True when some account already uses `email` (case-insensitive)."""
    found = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    return found is not None
