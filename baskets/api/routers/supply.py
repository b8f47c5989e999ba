"""Farmers, product catalogue, weeks and their supply lots."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from baskets.api.deps import ActorDep, IdempotencyKey, PageDep, SessionDep
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.supply import service
from baskets.supply.models import Category
from baskets.supply.schemas import (
    FarmerIn,
    FarmerOut,
    FarmerPatch,
    LotIn,
    LotOut,
    LotPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from baskets.weeks import service as weeks
from baskets.weeks.models import WeekStatus
from baskets.weeks.schemas import WeekIn, WeekOut, WeekPatch

router = APIRouter(tags=["supply"])


@router.get("/farmers", response_model=Page[FarmerOut])
def list_farmers(actor: ActorDep, session: SessionDep, page: PageDep,
                 q: str | None = None) -> dict[str, Any]:
    return paginate(session, service.farmers_query(actor, q=q), limit=page.limit,
                    offset=page.offset, to_item=FarmerOut.model_validate)


@router.post("/farmers", response_model=FarmerOut, status_code=201)
def create_farmer(data: FarmerIn, actor: ActorDep, session: SessionDep,
                  key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="farmers", payload=data,
                       create=lambda: FarmerOut.model_validate(
                           service.create_farmer(session, actor=actor, data=data)))


@router.get("/farmers/{farmer_id}", response_model=FarmerOut)
def get_farmer(farmer_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_farmer(session, actor=actor, farmer_id=farmer_id)


@router.patch("/farmers/{farmer_id}", response_model=FarmerOut)
def update_farmer(farmer_id: uuid.UUID, changes: FarmerPatch, actor: ActorDep,
                  session: SessionDep) -> Any:
    return service.update_farmer(session, actor=actor, farmer_id=farmer_id, changes=changes)


@router.get("/products", response_model=Page[ProductOut])
def list_products(actor: ActorDep, session: SessionDep, page: PageDep,
                  category: Category | None = None) -> dict[str, Any]:
    return paginate(session, service.products_query(category=category), limit=page.limit,
                    offset=page.offset, to_item=ProductOut.model_validate)


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(data: ProductIn, actor: ActorDep, session: SessionDep,
                   key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="products", payload=data,
                       create=lambda: ProductOut.model_validate(
                           service.create_product(session, actor=actor, data=data)))


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(product_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_product(session, product_id=product_id)


@router.patch("/products/{product_id}", response_model=ProductOut)
def update_product(product_id: uuid.UUID, changes: ProductPatch, actor: ActorDep,
                   session: SessionDep) -> Any:
    return service.update_product(session, actor=actor, product_id=product_id, changes=changes)


@router.get("/weeks", response_model=Page[WeekOut])
def list_weeks(actor: ActorDep, session: SessionDep, page: PageDep,
               status: WeekStatus | None = None) -> dict[str, Any]:
    return paginate(session, weeks.weeks_query(actor, status=status), limit=page.limit,
                    offset=page.offset, to_item=WeekOut.model_validate)


@router.post("/weeks", response_model=WeekOut, status_code=201)
def create_week(data: WeekIn, actor: ActorDep, session: SessionDep,
                key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="weeks", payload=data,
                       create=lambda: WeekOut.model_validate(
                           weeks.create_week(session, actor=actor, data=data)))


@router.get("/weeks/{week_id}", response_model=WeekOut)
def get_week(week_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return weeks.get_week(session, actor=actor, week_id=week_id)


@router.patch("/weeks/{week_id}", response_model=WeekOut)
def update_week(week_id: uuid.UUID, changes: WeekPatch, actor: ActorDep,
                session: SessionDep) -> Any:
    return weeks.update_week(session, actor=actor, week_id=week_id, changes=changes)


@router.get("/weeks/{week_id}/lots", response_model=Page[LotOut])
def list_lots(week_id: uuid.UUID, actor: ActorDep, session: SessionDep, page: PageDep,
              farmer_id: uuid.UUID | None = None) -> dict[str, Any]:
    query = service.lots_query(session, actor=actor, week_id=week_id, farmer_id=farmer_id)
    return paginate(session, query, limit=page.limit, offset=page.offset,
                    to_item=LotOut.model_validate)


@router.post("/weeks/{week_id}/lots", response_model=LotOut, status_code=201)
def create_lot(week_id: uuid.UUID, data: LotIn, actor: ActorDep, session: SessionDep,
               key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route=f"weeks/{week_id}/lots", payload=data,
                       create=lambda: LotOut.model_validate(
                           service.create_lot(session, actor=actor, week_id=week_id, data=data)))


@router.get("/lots/{lot_id}", response_model=LotOut)
def get_lot(lot_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_lot(session, actor=actor, lot_id=lot_id)


@router.patch("/lots/{lot_id}", response_model=LotOut)
def update_lot(lot_id: uuid.UUID, changes: LotPatch, actor: ActorDep,
               session: SessionDep) -> Any:
    return service.update_lot(session, actor=actor, lot_id=lot_id, changes=changes)


@router.delete("/lots/{lot_id}", status_code=204)
def delete_lot(lot_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Response:
    service.delete_lot(session, actor=actor, lot_id=lot_id)
    return Response(status_code=204)
