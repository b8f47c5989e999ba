"""Allocate a week from the database, store the baskets, and serve them to each front door."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, Role
from baskets.allocation import packing
from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.common.scope import Actor, get_in_territory, get_owned, owned
from baskets.db import utcnow
from baskets.errors import Conflict, InvalidInput, NotFound
from baskets.households.models import Household
from baskets.jobs import service as jobs
from baskets.jobs.models import Job
from baskets.optimizer import allocation as solver
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.weeks.models import Week, WeekStatus

WEEK = ("Semaine", "Week")
POINT = ("Point de distribution", "Distribution point")
BASKET = ("Panier", "Basket")
FROZEN = (WeekStatus.published, WeekStatus.done)


def build_problem(session: Session, week: Week) -> solver.AllocationProblem:
    """The solver's problem for a week: its lots, and the territory's active households."""
    team = session.get(Organisation, week.organisation_id)
    assert team is not None
    territory_orgs = select(Organisation.id).where(Organisation.territory_id == team.territory_id)
    policy = week.policy
    lots = [
        solver.Lot(
            id=str(lot.id), product=str(product.id), category=product.category.value,
            quantity_kg=lot.quantity_kg, unit_kg=product.unit_kg,
            shelf_life_days=float(product.shelf_life_days), lat=farmer.lat, lon=farmer.lon,
        )
        for lot, product, farmer in session.execute(
            select(SupplyLot, Product, Farmer)
            .join(Product, Product.id == SupplyLot.product_id)
            .join(Farmer, Farmer.id == SupplyLot.farmer_id)
            .where(SupplyLot.week_id == week.id)
            .order_by(SupplyLot.created_at, SupplyLot.id)
        )
    ]
    points = [
        solver.Point(id=str(p.id), lat=p.lat, lon=p.lon, capacity_kg=p.capacity_kg,
                     capacity_baskets=p.capacity_baskets)
        for p in session.scalars(
            select(DistributionPoint)
            .where(DistributionPoint.organisation_id.in_(territory_orgs))
            .order_by(DistributionPoint.id)
        )
    ]
    shortfall = last_week_shortfall(session, week) if policy.get("carry_over") else {}
    households = [
        solver.Household(
            id=str(h.id), point=str(h.distribution_point_id), adults=h.adults,
            children=h.children, infants=h.infants,
            excluded_products=frozenset(str(p) for p in h.excluded_products),
            excluded_categories=frozenset(str(c) for c in h.excluded_categories),
            carry_over=shortfall.get(h.id, 0.0),
        )
        for h in active_households(session, territory_orgs, week)
    ]
    return solver.AllocationProblem(
        policy=solver.Policy(
            kg_per_consumption_unit=float(policy["kg_per_consumption_unit"]),
            max_coverage=float(policy["max_coverage"]),
            min_category_share=dict(policy.get("min_category_share", {})),
            max_product_share=float(policy.get("max_product_share", 1.0)),
        ),
        points=tuple(points), lots=tuple(lots), households=tuple(households),
    )


def last_week_shortfall(session: Session, week: Week) -> dict[uuid.UUID, float]:
    """Each household's shortfall in the team's latest allocated week before `week`: 1 minus
    its coverage, between 0 and 1 (a household without a basket that week carries nothing)."""
    previous = session.scalar(
        select(Week.id).join(Allocation, Allocation.week_id == Week.id)
        .where(Week.organisation_id == week.organisation_id, Week.starts_on < week.starts_on)
        .order_by(Week.starts_on.desc()).limit(1))
    if previous is None:
        return {}
    return {
        household_id: round(min(1.0, max(0.0, 1.0 - coverage)), 4)
        for household_id, coverage in session.execute(
            select(AllocatedBasket.household_id, AllocatedBasket.coverage)
            .where(AllocatedBasket.week_id == previous))
    }


def active_households(session: Session, organisations: Any, week: Week) -> list[Household]:
    """Households that receive a basket this week: not archived, referral still valid."""
    return list(session.scalars(
        select(Household)
        .where(Household.organisation_id.in_(organisations))
        .where(Household.archived_at.is_(None))
        .where(Household.valid_until >= week.starts_on)
        .order_by(Household.id)
    ))


def prepare_week(
    session: Session, *, actor: Actor, week_id: uuid.UUID
) -> tuple[Week, solver.AllocationProblem]:
    """The actor's week and its problem, refused when frozen, without lots or households."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    return week, checked_problem(session, week)


def checked_problem(session: Session, week: Week) -> solver.AllocationProblem:
    """The week's problem; 409 when published, 422 without lots or households."""
    if week.status in FROZEN:
        raise Conflict(
            "Cette semaine est publiée : son allocation est figée.",
            "This week is published: its allocation is frozen.",
        )
    problem = build_problem(session, week)
    if not problem.lots:
        raise InvalidInput("Aucun lot n'est saisi pour cette semaine.",
                           "No supply lot is entered for this week.")
    if not problem.households:
        raise InvalidInput("Aucun foyer actif dans le territoire.",
                           "No active household in the territory.")
    return problem


def allocate_week(
    session: Session, *, actor: Actor, week_id: uuid.UUID, time_limit: float, seed: int
) -> Allocation:
    """Solve the week's allocation now and store it, replacing any previous draft whole.

    The synchronous path (demo, CLI); the API and the pages start a job instead
    (`start_allocation`), which runs the same solve in `baskets.allocation.tasks`.
    """
    week, problem = prepare_week(session, actor=actor, week_id=week_id)
    started = time.perf_counter()
    result = solver.solve_allocation(problem, time_limit=time_limit, seed=seed)
    wall = time.perf_counter() - started
    return store_result(session, actor=actor, week=week, problem=problem, result=result,
                        time_limit=time_limit, seed=seed, wall_seconds=wall)


def start_allocation(
    session: Session, *, actor: Actor, week_id: uuid.UUID, time_limit: float, seed: int
) -> Job:
    """Check the week now (409/422 at once), then submit the allocation job."""
    week, _ = prepare_week(session, actor=actor, week_id=week_id)
    return jobs.submit(session, actor, "allocation",
                       {"week_id": str(week.id), "time_limit": time_limit, "seed": seed})


def household_territories(session: Session,
                          problem: solver.AllocationProblem) -> dict[str, str]:
    """Each household's territory: its distribution point's neighbourhood's."""
    points = {uuid.UUID(p.id) for p in problem.points}
    territory_of = {
        str(point_id): str(territory_id)
        for point_id, territory_id in session.execute(
            select(DistributionPoint.id, Neighbourhood.territory_id)
            .join(Neighbourhood, Neighbourhood.id == DistributionPoint.neighbourhood_id)
            .where(DistributionPoint.id.in_(points))
        )
    }
    return {h.id: territory_of[h.point] for h in problem.households}


def store_result(
    session: Session, *, actor: Actor | None, week: Week, problem: solver.AllocationProblem,
    result: solver.AllocationResult, time_limit: float, seed: int, wall_seconds: float,
) -> Allocation:
    """Replace the week's allocation by `result` in the current transaction."""
    session.execute(delete(AllocatedBasket).where(AllocatedBasket.week_id == week.id))
    session.execute(delete(Allocation).where(Allocation.week_id == week.id))
    product_of = {lot.id: lot.product for lot in problem.lots}
    metrics = dict(result.metrics)
    allocation = Allocation(
        organisation_id=week.organisation_id, week_id=week.id,
        requested_by=actor.user.id if actor else None, solver_status=result.status,
        time_limit=time_limit, seed=seed, wall_seconds=round(wall_seconds, 3), metrics=metrics,
        binding=[
            {"rule": b.rule, "message": b.message, "message_fr": b.message_fr,
             "limit_coverage": b.limit_coverage, "missing_kg": b.missing_kg,
             "subject": b.subject}
            for b in result.binding
        ],
        unallocated=[
            {"lot_id": item.lot, "product_id": product_of[item.lot], "kg": round(item.kg, 3)}
            for item in result.unallocated
        ],
    )
    session.add(allocation)
    session.flush()
    households = {
        str(h.id): h for h in session.scalars(
            select(Household).where(Household.id.in_([uuid.UUID(b.household)
                                                     for b in result.baskets]))
        )
    }
    units = {h.id: h.consumption_units for h in problem.households}
    session.add_all([
        AllocatedBasket(
            allocation_id=allocation.id, week_id=week.id, household_id=uuid.UUID(basket.household),
            organisation_id=households[basket.household].organisation_id,
            distribution_point_id=households[basket.household].distribution_point_id,
            neighbourhood_id=households[basket.household].neighbourhood_id,
            consumption_units=units[basket.household], kg=round(basket.kg, 3),
            need_kg=round(basket.need_kg, 3), coverage=round(basket.coverage, 4),
            items=[{"lot_id": item.lot, "product_id": product_of[item.lot],
                    "kg": round(item.kg, 3), "pieces": item.pieces} for item in basket.items],
        )
        for basket in result.baskets
    ])
    week.status = WeekStatus.allocated
    session.flush()
    return allocation


def _allocation(session: Session, week: Week) -> Allocation:
    allocation = session.scalar(select(Allocation).where(Allocation.week_id == week.id))
    if allocation is None:
        raise NotFound("Allocation", "Allocation")
    return allocation


def get_allocation(session: Session, *, actor: Actor, week_id: uuid.UUID) -> dict[str, Any]:
    """The week's allocation with coverage per neighbourhood (coordinators)."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    allocation = _allocation(session, week)
    rows = session.execute(
        select(AllocatedBasket.neighbourhood_id, Neighbourhood.name, AllocatedBasket.kg,
               AllocatedBasket.coverage)
        .join(Neighbourhood, Neighbourhood.id == AllocatedBasket.neighbourhood_id)
        .where(AllocatedBasket.allocation_id == allocation.id)
    )
    groups: dict[uuid.UUID, dict[str, Any]] = {}
    for nid, name, kg, coverage in rows:
        group = groups.setdefault(nid, {"neighbourhood_id": nid, "name": name, "households": 0,
                                        "kg": 0.0, "coverages": []})
        group["households"] += 1
        group["kg"] += kg
        group["coverages"].append(coverage)
    neighbourhoods = [
        {"neighbourhood_id": g["neighbourhood_id"], "name": g["name"],
         "households": g["households"], "kg": round(g["kg"], 1),
         "min_coverage": min(g["coverages"]),
         "mean_coverage": round(sum(g["coverages"]) / len(g["coverages"]), 4)}
        for g in sorted(groups.values(), key=lambda g: str(g["name"]))
    ]
    return {
        "id": allocation.id, "week_id": week.id, "solver_status": allocation.solver_status,
        "created_at": allocation.created_at, "wall_seconds": allocation.wall_seconds,
        "metrics": allocation.metrics, "unallocated": allocation.unallocated,
        "binding": allocation.binding, "neighbourhoods": neighbourhoods,
    }


def localise_binding(binding: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Binding rules with `message` in the asked language."""
    return [{**b, "message": b["message"] if locale == "en" else b["message_fr"]}
            for b in binding]


def visible_week(session: Session, actor: Actor, week_id: uuid.UUID) -> Week:
    """A week the actor may read baskets of: the team's own, or its territory's (associations)."""
    if actor.role is Role.association:
        return get_in_territory(session, Week, week_id, actor, WEEK)
    actor.require(Role.coordinator)
    return get_owned(session, Week, week_id, actor, WEEK)


def baskets_query(
    session: Session, *, actor: Actor, week_id: uuid.UUID, point_id: uuid.UUID | None = None
) -> Select[AllocatedBasket]:
    """Baskets of a week: an association's own households', or all of them for coordinators."""
    week = visible_week(session, actor, week_id)
    query = select(AllocatedBasket).where(AllocatedBasket.week_id == week.id)
    if actor.role is Role.association:
        query = owned(AllocatedBasket, actor).where(AllocatedBasket.week_id == week.id)
    if point_id is not None:
        query = query.where(AllocatedBasket.distribution_point_id == point_id)
    return query.order_by(AllocatedBasket.household_id)


def basket_out(session: Session, actor: Actor, basket: AllocatedBasket,
               names: dict[uuid.UUID, str]) -> dict[str, Any]:
    """A basket with product names; the household reference only for its association."""
    reference = None
    if actor.role is Role.association:
        household = session.get(Household, basket.household_id)
        reference = household.reference if household else None
    return {
        "id": basket.id, "household_id": basket.household_id,
        "household_reference": reference,
        "distribution_point_id": basket.distribution_point_id,
        "consumption_units": basket.consumption_units, "kg": basket.kg,
        "need_kg": basket.need_kg, "coverage": basket.coverage, "collected": basket.collected,
        "items": [{**item, "product": names.get(uuid.UUID(item["product_id"]), "?")}
                  for item in basket.items],
    }


def product_names(session: Session) -> dict[uuid.UUID, str]:
    """Catalogue names by id (the catalogue is small and shared)."""
    return dict(session.execute(select(Product.id, Product.name)).all())


def size_bucket(units: float) -> str:
    """Basket size label for packing: by consumption units."""
    if units <= 1.0:
        return "1 UC"
    if units <= 1.8:
        return "1,1 à 1,8 UC"
    if units <= 2.6:
        return "1,9 à 2,6 UC"
    return "plus de 2,6 UC"


def packed_baskets(session: Session, baskets: list[AllocatedBasket]) -> packing.PackedPoint:
    """One point's baskets rounded to what volunteers weigh (0.1 kg or pieces), with the
    products too small to split named (see `baskets.allocation.packing`)."""
    products = {str(p.id): packing.ProductInfo(p.name, p.category.value, p.unit_kg)
                for p in session.scalars(select(Product))}
    return packing.pack_point(((b.id, b.items) for b in baskets), products)


def packing_list(
    session: Session, *, actor: Actor, week_id: uuid.UUID, point_id: uuid.UUID
) -> dict[str, Any]:
    """What a point receives, rounded to 0.1 kg or pieces (products too small to split
    flagged), and its baskets by size with what each size holds."""
    week = visible_week(session, actor, week_id)
    if actor.role is Role.association:
        point = get_owned(session, DistributionPoint, point_id, actor, POINT)
    else:
        point = get_in_territory(session, DistributionPoint, point_id, actor, POINT)
    baskets = list(session.scalars(
        select(AllocatedBasket)
        .where(AllocatedBasket.week_id == week.id)
        .where(AllocatedBasket.distribution_point_id == point.id)
    ))
    if not baskets and session.scalar(select(Allocation.id).where(
            Allocation.week_id == week.id)) is None:
        raise NotFound("Allocation", "Allocation")
    packed = packed_baskets(session, baskets)
    sizes = packing.by_size(packed, {b.id: size_bucket(b.consumption_units) for b in baskets})
    return {
        "week_id": week.id, "distribution_point_id": point.id, "point_name": point.name,
        "baskets": sum(group.baskets for group in sizes),
        "kg": round(sum(b.kg for b in baskets), 1),
        "baskets_by_size": {group.size: group.baskets for group in sizes},
        "sizes": [asdict(group) for group in sizes],
        "lines": [asdict(line) for line in packed.lines],
    }


def mark_collected(session: Session, *, actor: Actor, basket_id: uuid.UUID,
                   collected: bool) -> AllocatedBasket:
    """The association records whether the household collected its basket."""
    actor.require(Role.association)
    basket = get_owned(session, AllocatedBasket, basket_id, actor, BASKET)
    basket.collected = collected
    basket.collected_at = utcnow()
    session.flush()
    return basket


def publish_week(session: Session, *, actor: Actor, week_id: uuid.UUID) -> Week:
    """Publish an allocated (or planned) week: its allocation is frozen from then on."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    if week.status not in (WeekStatus.allocated, WeekStatus.planned):
        raise Conflict(
            "Seule une semaine allouée peut être publiée.",
            "Only an allocated week can be published.",
        )
    week.status = WeekStatus.published
    session.flush()
    return week
