"""The one organisation-scoped path every tenant query goes through.

A record of another organisation answers exactly like a missing one (404), so ids leak nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from baskets.accounts.models import Organisation, Role, User
from baskets.errors import Forbidden, NotFound


class Owned(Protocol):
    id: Any
    organisation_id: Any


M = TypeVar("M")


@dataclass(frozen=True)
class Actor:
    """The authenticated user with their organisation, as every service receives it."""

    user: User
    organisation: Organisation

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id

    @property
    def territory_id(self) -> uuid.UUID:
        return self.organisation.territory_id

    @property
    def role(self) -> Role:
        return self.user.role

    def require(self, *roles: Role) -> None:
        """Raise 403 unless the actor has one of `roles` (admin always passes)."""
        if self.user.role is not Role.admin and self.user.role not in roles:
            raise Forbidden()


def owned(model: type[M], actor: Actor) -> Select[M]:
    """Rows of `model` belonging to the actor's organisation."""
    column: InstrumentedAttribute[Any] = model.organisation_id  # type: ignore[attr-defined]
    return select(model).where(column == actor.organisation_id)


def in_territory(model: type[M], actor: Actor) -> Select[M]:
    """Rows of `model` whose owning organisation is in the actor's territory."""
    column: InstrumentedAttribute[Any] = model.organisation_id  # type: ignore[attr-defined]
    return (
        select(model)
        .join(Organisation, Organisation.id == column)
        .where(Organisation.territory_id == actor.territory_id)
    )


def get_from(
    session: Session, query: Select[M], model: type[M], record_id: uuid.UUID,
    what: tuple[str, str],
) -> M:
    """The record `record_id` inside `query`'s scope, else NotFound (missing or not yours)."""
    id_column: InstrumentedAttribute[Any] = model.id  # type: ignore[attr-defined]
    record = session.scalars(query.where(id_column == record_id)).first()
    if record is None:
        raise NotFound(*what)
    return record


def get_owned(
    session: Session, model: type[M], record_id: uuid.UUID, actor: Actor, what: tuple[str, str]
) -> M:
    """The actor's organisation's record `record_id`, else NotFound."""
    return get_from(session, owned(model, actor), model, record_id, what)


def get_in_territory(
    session: Session, model: type[M], record_id: uuid.UUID, actor: Actor, what: tuple[str, str]
) -> M:
    """A record of an organisation of the actor's territory, else NotFound."""
    return get_from(session, in_territory(model, actor), model, record_id, what)
