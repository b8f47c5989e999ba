"""Territories and neighbourhoods (reference data) and distribution points (associations')."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_in_territory, get_owned, in_territory, owned
from baskets.common.service import apply_changes
from baskets.errors import InvalidInput, NotFound
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory
from baskets.territory.schemas import (
    DistributionPointIn,
    DistributionPointPatch,
    NeighbourhoodIn,
    TerritoryIn,
)

POINT = ("Point de distribution", "Distribution point")


def create_territory(session: Session, *, data: TerritoryIn) -> Territory:
    """Create a territory (admin)."""
    territory = Territory(**data.model_dump())
    session.add(territory)
    session.flush()
    return territory


def get_territory(session: Session, *, territory_id: uuid.UUID) -> Territory:
    """A territory by id, else 404."""
    territory = session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("Territoire", "Territory")
    return territory


def create_neighbourhood(session: Session, *, data: NeighbourhoodIn) -> Neighbourhood:
    """Create a priority neighbourhood in an existing territory (admin)."""
    get_territory(session, territory_id=data.territory_id)
    neighbourhood = Neighbourhood(**data.model_dump())
    session.add(neighbourhood)
    session.flush()
    return neighbourhood


def neighbourhoods_query(territory_id: uuid.UUID | None) -> Select[Neighbourhood]:
    """Neighbourhoods, optionally of one territory, by name."""
    query = select(Neighbourhood).order_by(Neighbourhood.name)
    if territory_id is not None:
        query = query.where(Neighbourhood.territory_id == territory_id)
    return query


def get_neighbourhood(session: Session, *, neighbourhood_id: uuid.UUID) -> Neighbourhood:
    """A neighbourhood by id, else 404."""
    neighbourhood = session.get(Neighbourhood, neighbourhood_id)
    if neighbourhood is None:
        raise NotFound("Quartier", "Neighbourhood")
    return neighbourhood


def neighbourhood_in_territory(
    session: Session, actor: Actor, neighbourhood_id: uuid.UUID, field: str = "neighbourhood_id"
) -> Neighbourhood:
    """The neighbourhood if it lies in the actor's territory, else a 422 naming `field`."""
    neighbourhood = session.get(Neighbourhood, neighbourhood_id)
    if neighbourhood is None or neighbourhood.territory_id != actor.territory_id:
        raise InvalidInput(
            "Quartier inconnu dans votre territoire.",
            "Unknown neighbourhood in your territory.",
            [{"field": field, "message": "Quartier inconnu dans votre territoire."}],
        )
    return neighbourhood


def points_query(
    actor: Actor, *, neighbourhood_id: uuid.UUID | None = None
) -> Select[DistributionPoint]:
    """Points the actor may list: coordinators the territory's, associations their own."""
    if actor.role in (Role.coordinator, Role.admin):
        query = in_territory(DistributionPoint, actor)
    else:
        actor.require(Role.association)
        query = owned(DistributionPoint, actor)
    if neighbourhood_id is not None:
        query = query.where(DistributionPoint.neighbourhood_id == neighbourhood_id)
    return query.order_by(DistributionPoint.name)


def get_point(session: Session, *, actor: Actor, point_id: uuid.UUID) -> DistributionPoint:
    """A point the actor may read (coordinators: territory; associations: their own)."""
    if actor.role in (Role.coordinator, Role.admin):
        return get_in_territory(session, DistributionPoint, point_id, actor, POINT)
    actor.require(Role.association)
    return get_owned(session, DistributionPoint, point_id, actor, POINT)


def create_point(session: Session, *, actor: Actor, data: DistributionPointIn) -> DistributionPoint:
    """Create a distribution point run by the actor's association."""
    actor.require(Role.association)
    neighbourhood_in_territory(session, actor, data.neighbourhood_id)
    point = DistributionPoint(organisation_id=actor.organisation_id, **data.model_dump())
    session.add(point)
    session.flush()
    return point


def update_point(
    session: Session, *, actor: Actor, point_id: uuid.UUID, changes: DistributionPointPatch
) -> DistributionPoint:
    """Change the association's own point."""
    actor.require(Role.association)
    point = get_owned(session, DistributionPoint, point_id, actor, POINT)
    apply_changes(point, changes)
    session.flush()
    return point
