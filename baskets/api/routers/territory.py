"""Territories, neighbourhoods (reference data) and distribution points."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from baskets.accounts.models import Role
from baskets.api.deps import ActorDep, IdempotencyKey, PageDep, SessionDep
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.territory import service
from baskets.territory.models import Territory
from baskets.territory.schemas import (
    DistributionPointIn,
    DistributionPointOut,
    DistributionPointPatch,
    NeighbourhoodIn,
    NeighbourhoodOut,
    TerritoryIn,
    TerritoryOut,
)

router = APIRouter(tags=["territory"])


@router.get("/territories", response_model=Page[TerritoryOut])
def list_territories(actor: ActorDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, select(Territory).order_by(Territory.name), limit=page.limit,
                    offset=page.offset, to_item=TerritoryOut.model_validate)


@router.post("/territories", response_model=TerritoryOut, status_code=201)
def create_territory(data: TerritoryIn, actor: ActorDep, session: SessionDep,
                     key: IdempotencyKey = None) -> Any:
    actor.require(Role.admin)
    return create_once(session, actor, key=key, route="territories", payload=data,
                       create=lambda: TerritoryOut.model_validate(
                           service.create_territory(session, data=data)))


@router.get("/territories/{territory_id}", response_model=TerritoryOut)
def get_territory(territory_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_territory(session, territory_id=territory_id)


@router.get("/neighbourhoods", response_model=Page[NeighbourhoodOut])
def list_neighbourhoods(actor: ActorDep, session: SessionDep, page: PageDep,
                        territory_id: uuid.UUID | None = None) -> dict[str, Any]:
    return paginate(session, service.neighbourhoods_query(territory_id), limit=page.limit,
                    offset=page.offset, to_item=NeighbourhoodOut.model_validate)


@router.post("/neighbourhoods", response_model=NeighbourhoodOut, status_code=201)
def create_neighbourhood(data: NeighbourhoodIn, actor: ActorDep, session: SessionDep,
                         key: IdempotencyKey = None) -> Any:
    actor.require(Role.admin)
    return create_once(session, actor, key=key, route="neighbourhoods", payload=data,
                       create=lambda: NeighbourhoodOut.model_validate(
                           service.create_neighbourhood(session, data=data)))


@router.get("/neighbourhoods/{neighbourhood_id}", response_model=NeighbourhoodOut)
def get_neighbourhood(neighbourhood_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_neighbourhood(session, neighbourhood_id=neighbourhood_id)


@router.get("/distribution-points", response_model=Page[DistributionPointOut])
def list_points(actor: ActorDep, session: SessionDep, page: PageDep,
                neighbourhood_id: uuid.UUID | None = None) -> dict[str, Any]:
    return paginate(session, service.points_query(actor, neighbourhood_id=neighbourhood_id),
                    limit=page.limit, offset=page.offset,
                    to_item=DistributionPointOut.model_validate)


@router.post("/distribution-points", response_model=DistributionPointOut, status_code=201)
def create_point(data: DistributionPointIn, actor: ActorDep, session: SessionDep,
                 key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="distribution-points", payload=data,
                       create=lambda: DistributionPointOut.model_validate(
                           service.create_point(session, actor=actor, data=data)))


@router.get("/distribution-points/{point_id}", response_model=DistributionPointOut)
def get_point(point_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_point(session, actor=actor, point_id=point_id)


@router.patch("/distribution-points/{point_id}", response_model=DistributionPointOut)
def update_point(point_id: uuid.UUID, changes: DistributionPointPatch, actor: ActorDep,
                 session: SessionDep) -> Any:
    return service.update_point(session, actor=actor, point_id=point_id, changes=changes)
