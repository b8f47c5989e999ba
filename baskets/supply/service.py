"""Farmers, the shared product catalogue and the week's supply lots."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_owned, owned
from baskets.common.service import apply_changes
from baskets.errors import Conflict, InvalidInput, NotFound
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.supply.schemas import FarmerIn, FarmerPatch, LotIn, LotPatch, ProductIn, ProductPatch
from baskets.weeks.models import Week, WeekStatus

FARMER = ("Producteur", "Farmer")
LOT = ("Lot", "Lot")
WEEK = ("Semaine", "Week")
EDITABLE_WEEK = (WeekStatus.draft, WeekStatus.allocated, WeekStatus.planned)


def farmers_query(actor: Actor, *, q: str | None = None) -> Select[Farmer]:
    """The food team's farmers, optionally filtered by name."""
    actor.require(Role.coordinator)
    query = owned(Farmer, actor).order_by(Farmer.name)
    if q:
        query = query.where(Farmer.name.ilike(f"%{q}%"))
    return query


def create_farmer(session: Session, *, actor: Actor, data: FarmerIn) -> Farmer:
    """Register a farmer with the food team."""
    actor.require(Role.coordinator)
    farmer = Farmer(organisation_id=actor.organisation_id, **data.model_dump())
    session.add(farmer)
    session.flush()
    return farmer


def get_farmer(session: Session, *, actor: Actor, farmer_id: uuid.UUID) -> Farmer:
    """One of the food team's farmers."""
    actor.require(Role.coordinator)
    return get_owned(session, Farmer, farmer_id, actor, FARMER)


def update_farmer(
    session: Session, *, actor: Actor, farmer_id: uuid.UUID, changes: FarmerPatch
) -> Farmer:
    """Change one of the food team's farmers."""
    farmer = get_farmer(session, actor=actor, farmer_id=farmer_id)
    apply_changes(farmer, changes)
    session.flush()
    return farmer


def products_query(*, category: Category | None = None) -> Select[Product]:
    """The shared catalogue, optionally one category."""
    query = select(Product).order_by(Product.name)
    if category is not None:
        query = query.where(Product.category == category)
    return query


def create_product(session: Session, *, actor: Actor, data: ProductIn) -> Product:
    """Add a product to the shared catalogue (unique French name)."""
    actor.require(Role.coordinator)
    if session.scalar(select(Product.id).where(Product.name == data.name)) is not None:
        raise InvalidInput(
            "Ce produit existe déjà dans le catalogue.",
            "This product is already in the catalogue.",
            [{"field": "name", "message": "Nom déjà utilisé."}],
        )
    product = Product(**data.model_dump())
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, *, product_id: uuid.UUID) -> Product:
    """A catalogue product, else 404."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("Produit", "Product")
    return product


def update_product(
    session: Session, *, actor: Actor, product_id: uuid.UUID, changes: ProductPatch
) -> Product:
    """Change a catalogue product."""
    actor.require(Role.coordinator)
    product = get_product(session, product_id=product_id)
    apply_changes(product, changes)
    session.flush()
    return product


def editable_week(session: Session, actor: Actor, week_id: uuid.UUID) -> Week:
    """The food team's week, refusing changes once it is published."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    if week.status not in EDITABLE_WEEK:
        raise Conflict(
            "Cette semaine est publiée : son approvisionnement ne peut plus changer.",
            "This week is published: its supply can no longer change.",
        )
    return week


def lots_query(
    session: Session, *, actor: Actor, week_id: uuid.UUID, farmer_id: uuid.UUID | None = None
) -> Select[SupplyLot]:
    """The lots of one of the food team's weeks."""
    actor.require(Role.coordinator)
    get_owned(session, Week, week_id, actor, WEEK)
    query = owned(SupplyLot, actor).where(SupplyLot.week_id == week_id)
    if farmer_id is not None:
        query = query.where(SupplyLot.farmer_id == farmer_id)
    return query.order_by(SupplyLot.created_at, SupplyLot.id)


def _check_lot_refs(session: Session, actor: Actor, farmer_id: uuid.UUID, product_id: uuid.UUID
                    ) -> Product:
    problems = []
    if session.scalar(owned(Farmer, actor).where(Farmer.id == farmer_id)) is None:
        problems.append({"field": "farmer_id", "message": "Producteur inconnu."})
    product = session.get(Product, product_id)
    if product is None:
        problems.append({"field": "product_id", "message": "Produit inconnu."})
    if problems:
        raise InvalidInput(
            "Le lot fait référence à un producteur ou un produit inconnu.",
            "The lot refers to an unknown farmer or product.",
            problems,
        )
    assert product is not None
    return product


def create_lot(session: Session, *, actor: Actor, week_id: uuid.UUID, data: LotIn) -> SupplyLot:
    """Enter one farmer's lot for the week."""
    week = editable_week(session, actor, week_id)
    product = _check_lot_refs(session, actor, data.farmer_id, data.product_id)
    units = data.units
    if product.unit_kg is not None and units is None:
        units = max(1, round(data.quantity_kg / product.unit_kg))
    lot = SupplyLot(
        organisation_id=actor.organisation_id,
        week_id=week.id,
        **data.model_dump(exclude={"units"}),
        units=units,
    )
    session.add(lot)
    session.flush()
    return lot


def get_lot(session: Session, *, actor: Actor, lot_id: uuid.UUID) -> SupplyLot:
    """One of the food team's lots."""
    actor.require(Role.coordinator)
    return get_owned(session, SupplyLot, lot_id, actor, LOT)


def update_lot(session: Session, *, actor: Actor, lot_id: uuid.UUID, changes: LotPatch
               ) -> SupplyLot:
    """Change a lot while its week is not published."""
    lot = get_lot(session, actor=actor, lot_id=lot_id)
    editable_week(session, actor, lot.week_id)
    apply_changes(lot, changes)
    if lot.pickup_end <= lot.pickup_start:
        raise InvalidInput(
            "La fin du créneau d'enlèvement doit suivre son début.",
            "The pick-up window must end after it starts.",
            [{"field": "pickup_end", "message": "Doit suivre pickup_start."}],
        )
    session.flush()
    return lot


def delete_lot(session: Session, *, actor: Actor, lot_id: uuid.UUID) -> None:
    """Withdraw a lot while its week is not published."""
    lot = get_lot(session, actor=actor, lot_id=lot_id)
    editable_week(session, actor, lot.week_id)
    session.delete(lot)
    session.flush()
