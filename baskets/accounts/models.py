"""Organisations and their users."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class OrganisationKind(enum.StrEnum):
    food_team = "food_team"
    association = "association"
    company = "company"


class Role(enum.StrEnum):
    coordinator = "coordinator"
    association = "association"
    volunteer = "volunteer"
    company = "company"
    admin = "admin"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native type) so SQLite and PostgreSQL migrate alike.
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Organisation(IdMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territories.id"), index=True)
    siret: Mapped[str | None] = mapped_column(String(14))
    pact_signatory: Mapped[bool] = mapped_column(default=False)
    agreement_hours: Mapped[float | None]
    hourly_cost: Mapped[float | None]


class User(IdMixin, Base):
    __tablename__ = "users"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    # Tokens carry the version they were issued under; raising it (logout, password change,
    # deactivation: accounts.service.revoke_sessions) ends every session of the account.
    token_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
