"""Households: associations manage theirs; coordinators read a pseudonymous view."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from baskets.api.deps import ActorDep, IdempotencyKey, PageDep, SessionDep
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.households import service
from baskets.households.schemas import (
    AuditOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    HouseholdPseudoOut,
)

router = APIRouter(tags=["households"])


def _out(household: Any) -> HouseholdOut:
    return HouseholdOut.model_validate(service.to_out(household))


def _pseudo(household: Any) -> HouseholdPseudoOut:
    return HouseholdPseudoOut.model_validate(service.to_out(household))


@router.get("/households", response_model=Page[HouseholdOut])
def list_households(actor: ActorDep, session: SessionDep, page: PageDep, q: str | None = None,
                    point_id: uuid.UUID | None = None, neighbourhood_id: uuid.UUID | None = None,
                    archived: bool = False) -> dict[str, Any]:
    query = service.households_query(actor, q=q, point_id=point_id,
                                     neighbourhood_id=neighbourhood_id, archived=archived)
    return paginate(session, query, limit=page.limit, offset=page.offset, to_item=_out)


@router.post("/households", response_model=HouseholdOut, status_code=201)
def create_household(data: HouseholdIn, actor: ActorDep, session: SessionDep,
                     key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="households", payload=data,
                       create=lambda: _out(service.create_household(session, actor=actor,
                                                                    data=data)))


@router.get("/households/{household_id}", response_model=HouseholdOut)
def get_household(household_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return _out(service.get_household(session, actor=actor, household_id=household_id))


@router.patch("/households/{household_id}", response_model=HouseholdOut)
def update_household(household_id: uuid.UUID, changes: HouseholdPatch, actor: ActorDep,
                     session: SessionDep) -> Any:
    return _out(service.update_household(session, actor=actor, household_id=household_id,
                                         changes=changes))


@router.post("/households/{household_id}/archive", response_model=HouseholdOut)
def archive_household(household_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return _out(service.archive_household(session, actor=actor, household_id=household_id))


@router.get("/households/{household_id}/audit", response_model=Page[AuditOut])
def household_audit(household_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                    page: PageDep) -> dict[str, Any]:
    query = service.audit_query(session, actor=actor, household_id=household_id)
    return paginate(session, query, limit=page.limit, offset=page.offset,
                    to_item=AuditOut.model_validate)


@router.get("/coordination/households", response_model=Page[HouseholdPseudoOut])
def pseudonymous_households(actor: ActorDep, session: SessionDep, page: PageDep,
                            point_id: uuid.UUID | None = None,
                            neighbourhood_id: uuid.UUID | None = None) -> dict[str, Any]:
    query = service.pseudonymous_query(actor, point_id=point_id,
                                       neighbourhood_id=neighbourhood_id)
    return paginate(session, query, limit=page.limit, offset=page.offset, to_item=_pseudo)
