"""Skills-sponsorship offers (companies) and projects (associations)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from baskets.api.deps import ActorDep, IdempotencyKey, PageDep, SessionDep
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.sponsorship import service
from baskets.sponsorship.schemas import (
    OfferIn,
    OfferOut,
    OfferPatch,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
)

router = APIRouter(tags=["sponsorship"])


@router.get("/offers", response_model=Page[OfferOut])
def list_offers(actor: ActorDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, service.offers_query(actor), limit=page.limit, offset=page.offset,
                    to_item=OfferOut.model_validate)


@router.post("/offers", response_model=OfferOut, status_code=201)
def create_offer(data: OfferIn, actor: ActorDep, session: SessionDep,
                 key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="offers", payload=data,
                       create=lambda: OfferOut.model_validate(
                           service.create_offer(session, actor=actor, data=data)))


@router.get("/offers/{offer_id}", response_model=OfferOut)
def get_offer(offer_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_offer(session, actor=actor, offer_id=offer_id)


@router.patch("/offers/{offer_id}", response_model=OfferOut)
def update_offer(offer_id: uuid.UUID, changes: OfferPatch, actor: ActorDep,
                 session: SessionDep) -> Any:
    return service.update_offer(session, actor=actor, offer_id=offer_id, changes=changes)


@router.get("/projects", response_model=Page[ProjectOut])
def list_projects(actor: ActorDep, session: SessionDep, page: PageDep,
                  neighbourhood_id: uuid.UUID | None = None, mine: bool = False
                  ) -> dict[str, Any]:
    query = service.projects_query(actor, neighbourhood_id=neighbourhood_id, mine=mine)
    return paginate(session, query, limit=page.limit, offset=page.offset,
                    to_item=ProjectOut.model_validate)


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(data: ProjectIn, actor: ActorDep, session: SessionDep,
                   key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="projects", payload=data,
                       create=lambda: ProjectOut.model_validate(
                           service.create_project(session, actor=actor, data=data)))


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_project(session, actor=actor, project_id=project_id)


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def update_project(project_id: uuid.UUID, changes: ProjectPatch, actor: ActorDep,
                   session: SessionDep) -> Any:
    return service.update_project(session, actor=actor, project_id=project_id, changes=changes)
