"""Accounts: authenticate, create organisations and users."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.accounts.schemas import OrganisationIn, UserIn
from baskets.accounts.security import hash_password, verify_password
from baskets.common.scope import Actor
from baskets.errors import InvalidInput, NotFound
from baskets.territory.models import Territory

# Which organisation kind each role belongs to.
ROLE_KINDS: dict[Role, OrganisationKind] = {
    Role.admin: OrganisationKind.food_team,
    Role.coordinator: OrganisationKind.food_team,
    Role.volunteer: OrganisationKind.food_team,
    Role.association: OrganisationKind.association,
    Role.company: OrganisationKind.company,
}

# Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None."""
    user = session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.is_active or not verify_password(user.password_hash, password):
        return None
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


def create_user(session: Session, *, data: UserIn) -> User:
    """Create a user whose role fits their organisation's kind, with a unique e-mail."""
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
        password_hash=hash_password(data.password),
        locale=data.locale,
    )
    session.add(user)
    session.flush()
    return user


def email_taken(session: Session, email: str) -> bool:
    """True when some account already uses `email` (case-insensitive)."""
    found = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    return found is not None
