"""Accounts: tokens, the current user, organisations and users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from baskets.accounts.models import OrganisationKind, Role
from baskets.common.schemas import InModel, Name, OutModel

Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        examples=["accueil@centre-social.fr"],
    ),
]
Password = Annotated[str, Field(min_length=10, max_length=200)]
Siret = Annotated[str, Field(pattern=r"^\d{14}$", examples=["12345678900017"])]


class TokenOut(OutModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OrganisationOut(OutModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    territory_id: uuid.UUID
    siret: str | None
    pact_signatory: bool
    agreement_hours: float | None
    hourly_cost: float | None


class OrganisationIn(InModel):
    name: Name
    kind: OrganisationKind
    territory_id: uuid.UUID
    siret: Siret | None = None
    pact_signatory: bool = False
    agreement_hours: Annotated[float, Field(ge=0)] | None = None
    hourly_cost: Annotated[float, Field(ge=0)] | None = None


class UserOut(OutModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    locale: str
    created_at: datetime


class MeOut(OutModel):
    user: UserOut
    organisation: OrganisationOut


class UserIn(InModel):
    organisation_id: uuid.UUID
    email: Email
    full_name: Name
    role: Role
    password: Password
    locale: Annotated[str, Field(pattern=r"^(fr|en)$")] = "fr"


class PasswordChange(InModel):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password
