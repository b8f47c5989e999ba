"""Organisations and users (administration)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from baskets.accounts import service
from baskets.accounts.models import Role
from baskets.accounts.schemas import OrganisationIn, OrganisationOut, UserIn, UserOut
from baskets.api.deps import ActorDep, IdempotencyKey, PageDep, SessionDep
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate

router = APIRouter(tags=["accounts"])


@router.get("/organisations", response_model=Page[OrganisationOut])
def list_organisations(actor: ActorDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, service.list_organisations(actor), limit=page.limit,
                    offset=page.offset, to_item=OrganisationOut.model_validate)


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
def create_organisation(
    data: OrganisationIn, actor: ActorDep, session: SessionDep, key: IdempotencyKey = None
) -> Any:
    actor.require(Role.admin)
    return create_once(session, actor, key=key, route="organisations", payload=data,
                       create=lambda: OrganisationOut.model_validate(
                           service.create_organisation(session, data=data)))


@router.get("/organisations/{organisation_id}", response_model=OrganisationOut)
def get_organisation(organisation_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_organisation(session, actor=actor, organisation_id=organisation_id)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(data: UserIn, actor: ActorDep, session: SessionDep,
                key: IdempotencyKey = None) -> Any:
    actor.require(Role.admin)
    # Hash first, with the actor's read transaction closed: argon2 never runs inside one.
    service.end_reads(session)
    password_hash = service.new_password_hash(data.password, email=data.email)
    return create_once(session, actor, key=key, route="users", payload=data,
                       create=lambda: UserOut.model_validate(
                           service.create_user(session, data=data,
                                               password_hash=password_hash)))


@router.post("/users/{user_id}/deactivate", response_model=UserOut,
             summary="Désactiver un compte / deactivate an account")
def deactivate_user(user_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    """The account can no longer log in; its sessions end at once."""
    return service.deactivate_user(session, actor=actor, user_id=user_id)
