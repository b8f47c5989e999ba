"""Households of an association; a pseudonymous view for coordinators; an audit of every write."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_owned, in_territory, owned
from baskets.db import utcnow
from baskets.errors import Conflict, InvalidInput
from baskets.households.models import Household, HouseholdAudit
from baskets.households.schemas import HouseholdIn, HouseholdPatch
from baskets.supply.models import Product
from baskets.territory.models import DistributionPoint
from baskets.territory.service import neighbourhood_in_territory

HOUSEHOLD = ("Foyer", "Household")


def consumption_units(adults: int, children: int, infants: int) -> float:
    """Modified OECD scale: 1 for the first adult, 0.5 per other adult, 0.3 per child or infant."""
    return round(1.0 + 0.5 * max(0, adults - 1) + 0.3 * (children + infants), 2)


def to_out(household: Household) -> dict[str, Any]:
    """A household's fields plus its consumption units, for the response models."""
    data = {column: getattr(household, column) for column in Household.__table__.columns.keys()}
    data["consumption_units"] = consumption_units(
        household.adults, household.children, household.infants
    )
    return data


def _audit(session: Session, actor: Actor | None, household: Household, action: str,
           fields: list[str]) -> None:
    session.add(
        HouseholdAudit(
            organisation_id=household.organisation_id,
            household_id=household.id,
            user_id=actor.user.id if actor else None,
            action=action,
            fields=fields,
        )
    )


def _check_refs(
    session: Session,
    actor: Actor,
    *,
    neighbourhood_id: uuid.UUID,
    point_id: uuid.UUID,
    excluded_products: list[uuid.UUID],
    today: date,
    dates: dict[str, date | None],
) -> None:
    problems: list[dict[str, str]] = []
    try:
        neighbourhood_in_territory(session, actor, neighbourhood_id)
    except InvalidInput as exc:
        problems.extend(exc.details)
    point = session.scalar(owned(DistributionPoint, actor).where(DistributionPoint.id == point_id))
    if point is None:
        problems.append(
            {"field": "distribution_point_id", "message": "Point de distribution inconnu."}
        )
    if excluded_products:
        known = set(session.scalars(select(Product.id).where(Product.id.in_(excluded_products))))
        for index, product_id in enumerate(excluded_products):
            if product_id not in known:
                problems.append(
                    {"field": f"excluded_products.{index}", "message": "Produit inconnu."}
                )
    for field in ("consent_date", "last_contact_date"):
        value = dates.get(field)
        if value is not None and value > today:
            problems.append({"field": field, "message": "Cette date ne peut pas être future."})
    if problems:
        raise InvalidInput(
            "Certaines valeurs du foyer sont invalides ; rien n'a été enregistré.",
            "Some household values are invalid; nothing was saved.",
            problems,
        )


def households_query(
    actor: Actor,
    *,
    q: str | None = None,
    point_id: uuid.UUID | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    archived: bool = False,
) -> Select[Household]:
    """The association's households, filtered; archived ones only when asked."""
    actor.require(Role.association)
    query = owned(Household, actor)
    query = query.where(
        Household.archived_at.is_not(None) if archived else Household.archived_at.is_(None)
    )
    if q:
        query = query.where(Household.reference.ilike(f"%{q}%"))
    if point_id is not None:
        query = query.where(Household.distribution_point_id == point_id)
    if neighbourhood_id is not None:
        query = query.where(Household.neighbourhood_id == neighbourhood_id)
    return query.order_by(Household.reference)


def pseudonymous_query(
    actor: Actor, *, point_id: uuid.UUID | None = None, neighbourhood_id: uuid.UUID | None = None
) -> Select[Household]:
    """Active households of the coordinator's territory (served without identifying fields)."""
    actor.require(Role.coordinator)
    query = in_territory(Household, actor).where(Household.archived_at.is_(None))
    if point_id is not None:
        query = query.where(Household.distribution_point_id == point_id)
    if neighbourhood_id is not None:
        query = query.where(Household.neighbourhood_id == neighbourhood_id)
    return query.order_by(Household.id)


def create_household(
    session: Session, *, actor: Actor, data: HouseholdIn, today: date | None = None
) -> Household:
    """Register a household with the association, checking every reference first."""
    actor.require(Role.association)
    _check_refs(
        session,
        actor,
        neighbourhood_id=data.neighbourhood_id,
        point_id=data.distribution_point_id,
        excluded_products=data.excluded_products,
        today=today or date.today(),
        dates={"consent_date": data.consent_date, "last_contact_date": data.last_contact_date},
    )
    clash = session.scalar(
        owned(Household, actor).where(Household.reference == data.reference).with_only_columns(
            Household.id
        )
    )
    if clash is not None:
        raise InvalidInput(
            "Cette référence de foyer existe déjà dans votre association.",
            "This household reference already exists in your association.",
            [{"field": "reference", "message": "Référence déjà utilisée."}],
        )
    values = data.model_dump(mode="json")
    values.update(
        neighbourhood_id=data.neighbourhood_id,
        distribution_point_id=data.distribution_point_id,
        valid_until=data.valid_until,
        consent_date=data.consent_date,
        last_contact_date=data.last_contact_date,
    )
    household = Household(organisation_id=actor.organisation_id, **values)
    session.add(household)
    session.flush()
    _audit(session, actor, household, "create", sorted(data.model_fields_set | {"reference"}))
    session.flush()
    return household


def get_household(session: Session, *, actor: Actor, household_id: uuid.UUID) -> Household:
    """One of the association's households."""
    actor.require(Role.association)
    return get_owned(session, Household, household_id, actor, HOUSEHOLD)


def update_household(
    session: Session,
    *,
    actor: Actor,
    household_id: uuid.UUID,
    changes: HouseholdPatch,
    today: date | None = None,
) -> Household:
    """Change a household; the audit records which fields changed, never their values."""
    household = get_household(session, actor=actor, household_id=household_id)
    if household.archived_at is not None:
        raise Conflict("Ce foyer est archivé.", "This household is archived.")
    sent = changes.model_dump(exclude_unset=True)
    for field in ("adults", "neighbourhood_id", "distribution_point_id", "referral_reason",
                  "valid_until", "last_contact_date", "excluded_products", "excluded_categories"):
        if field in sent and sent[field] is None:
            raise InvalidInput(
                "Ce champ ne peut pas être vidé.",
                "This field cannot be emptied.",
                [{"field": field, "message": "Ce champ ne peut pas être vidé."}],
            )
    _check_refs(
        session,
        actor,
        neighbourhood_id=changes.neighbourhood_id or household.neighbourhood_id,
        point_id=changes.distribution_point_id or household.distribution_point_id,
        excluded_products=changes.excluded_products or [],
        today=today or date.today(),
        dates={"last_contact_date": changes.last_contact_date},
    )
    if changes.excluded_products is not None:
        sent["excluded_products"] = [str(p) for p in changes.excluded_products]
    if changes.excluded_categories is not None:
        sent["excluded_categories"] = [c.value for c in changes.excluded_categories]
    changed = []
    for field, value in sent.items():
        if getattr(household, field) != value:
            setattr(household, field, value)
            changed.append(field)
    if changed:
        _audit(session, actor, household, "update", sorted(changed))
    session.flush()
    return household


def archive_household(session: Session, *, actor: Actor, household_id: uuid.UUID) -> Household:
    """Archive a household: it leaves allocations but its history stays."""
    household = get_household(session, actor=actor, household_id=household_id)
    if household.archived_at is None:
        household.archived_at = utcnow()
        _audit(session, actor, household, "archive", ["archived_at"])
        session.flush()
    return household


def audit_query(
    session: Session, *, actor: Actor, household_id: uuid.UUID
) -> Select[HouseholdAudit]:
    """The audit trail of one of the association's households, newest first."""
    get_household(session, actor=actor, household_id=household_id)
    return (
        owned(HouseholdAudit, actor)
        .where(HouseholdAudit.household_id == household_id)
        .order_by(HouseholdAudit.created_at.desc(), HouseholdAudit.id)
    )

