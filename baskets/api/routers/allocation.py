"""The week's allocation: run it, read it, packing lists, baskets, collection, publication."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response

from baskets.allocation import service
from baskets.allocation.schemas import (
    AllocateIn,
    AllocationOut,
    BasketOut,
    CollectedIn,
    PackingListOut,
)
from baskets.api.deps import ActorDep, LocaleDep, PageDep, SessionDep, SettingsDep
from baskets.api.routers.jobs import submitted
from baskets.common.pagination import Page, paginate
from baskets.jobs.schemas import SubmittedOut
from baskets.weeks.schemas import WeekOut

router = APIRouter(tags=["allocation"])


@router.post("/weeks/{week_id}/allocation", response_model=SubmittedOut, status_code=202,
             summary="Lancer l'allocation de la semaine (tâche) / start the week's allocation")
def allocate(week_id: uuid.UUID, actor: ActorDep, session: SessionDep, settings: SettingsDep,
             response: Response, options: AllocateIn = Body(default_factory=AllocateIn)) -> Any:
    job = service.start_allocation(
        session, actor=actor, week_id=week_id,
        time_limit=options.time_limit or settings.solver_time_limit_seconds,
        seed=settings.solver_seed if options.seed is None else options.seed,
    )
    return submitted(job, response)


@router.get("/weeks/{week_id}/allocation", response_model=AllocationOut)
def get_allocation(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                   locale: LocaleDep) -> Any:
    return _localised(service.get_allocation(session, actor=actor, week_id=week_id), locale)


def _localised(allocation: dict[str, Any], locale: str) -> dict[str, Any]:
    return {**allocation, "binding": service.localise_binding(allocation["binding"], locale)}


@router.get("/weeks/{week_id}/baskets", response_model=Page[BasketOut])
def list_baskets(week_id: uuid.UUID, actor: ActorDep, session: SessionDep, page: PageDep,
                 point_id: uuid.UUID | None = None) -> dict[str, Any]:
    query = service.baskets_query(session, actor=actor, week_id=week_id, point_id=point_id)
    names = service.product_names(session)
    return paginate(session, query, limit=page.limit, offset=page.offset,
                    to_item=lambda basket: service.basket_out(session, actor, basket, names))


@router.get("/weeks/{week_id}/packing-lists/{point_id}", response_model=PackingListOut)
def packing_list(week_id: uuid.UUID, point_id: uuid.UUID, actor: ActorDep,
                 session: SessionDep) -> Any:
    return service.packing_list(session, actor=actor, week_id=week_id, point_id=point_id)


@router.post("/baskets/{basket_id}/collected", response_model=BasketOut)
def mark_collected(basket_id: uuid.UUID, data: CollectedIn, actor: ActorDep,
                   session: SessionDep) -> Any:
    basket = service.mark_collected(session, actor=actor, basket_id=basket_id,
                                    collected=data.collected)
    return service.basket_out(session, actor, basket, service.product_names(session))


@router.post("/weeks/{week_id}/publish", response_model=WeekOut)
def publish(week_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.publish_week(session, actor=actor, week_id=week_id)
