"""Companies' offers and associations' projects."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_in_territory, get_owned, in_territory, owned
from baskets.common.service import apply_changes
from baskets.errors import InvalidInput
from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.sponsorship.schemas import OfferIn, OfferPatch, ProjectIn, ProjectPatch
from baskets.territory.service import neighbourhood_in_territory

OFFER = ("Offre", "Offer")
PROJECT = ("Projet", "Project")


def _period_check(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise InvalidInput(
            "La fin de la période précède son début.",
            "The period ends before it starts.",
            [{"field": "ends_on", "message": "Doit suivre starts_on."}],
        )


def offers_query(actor: Actor) -> Select[Offer]:
    """Companies see their own offers; coordinators those of their territory."""
    if actor.role in (Role.coordinator, Role.admin):
        return in_territory(Offer, actor).order_by(Offer.starts_on, Offer.id)
    actor.require(Role.company)
    return owned(Offer, actor).order_by(Offer.starts_on, Offer.id)


def create_offer(session: Session, *, actor: Actor, data: OfferIn) -> Offer:
    """Publish a skills-sponsorship offer for the company."""
    actor.require(Role.company)
    offer = Offer(organisation_id=actor.organisation_id, **data.model_dump())
    session.add(offer)
    session.flush()
    return offer


def get_offer(session: Session, *, actor: Actor, offer_id: uuid.UUID) -> Offer:
    """An offer the actor may read."""
    if actor.role in (Role.coordinator, Role.admin):
        return get_in_territory(session, Offer, offer_id, actor, OFFER)
    actor.require(Role.company)
    return get_owned(session, Offer, offer_id, actor, OFFER)


def update_offer(
    session: Session, *, actor: Actor, offer_id: uuid.UUID, changes: OfferPatch
) -> Offer:
    """Change the company's own offer."""
    actor.require(Role.company)
    offer = get_owned(session, Offer, offer_id, actor, OFFER)
    apply_changes(offer, changes)
    _period_check(offer.starts_on, offer.ends_on)
    if offer.min_chunk_hours > offer.hours:
        raise InvalidInput(
            "Le créneau minimal dépasse les heures offertes.",
            "The minimum chunk exceeds the hours offered.",
            [{"field": "min_chunk_hours", "message": "Doit être inférieur ou égal à hours."}],
        )
    session.flush()
    return offer


def projects_query(
    actor: Actor, *, neighbourhood_id: uuid.UUID | None = None, mine: bool = False
) -> Select[Project]:
    """Projects published in the actor's territory (associations may ask for only theirs)."""
    query = owned(Project, actor) if mine else in_territory(Project, actor)
    if neighbourhood_id is not None:
        query = query.where(Project.neighbourhood_id == neighbourhood_id)
    return query.order_by(Project.starts_on, Project.id)


def create_project(session: Session, *, actor: Actor, data: ProjectIn) -> Project:
    """Publish a project of the association with its needs."""
    actor.require(Role.association)
    neighbourhood_in_territory(session, actor, data.neighbourhood_id)
    project = Project(
        organisation_id=actor.organisation_id,
        **data.model_dump(exclude={"needs"}),
        needs=[ProjectNeed(position=i, **need.model_dump()) for i, need in enumerate(data.needs)],
    )
    session.add(project)
    session.flush()
    return project


def get_project(session: Session, *, actor: Actor, project_id: uuid.UUID) -> Project:
    """A project of the actor's territory."""
    return get_in_territory(session, Project, project_id, actor, PROJECT)


def update_project(
    session: Session, *, actor: Actor, project_id: uuid.UUID, changes: ProjectPatch
) -> Project:
    """Change the association's own project; sent needs replace the old ones."""
    actor.require(Role.association)
    project = get_owned(session, Project, project_id, actor, PROJECT)
    needs = changes.needs
    # Needs are replaced as a whole below, so only the scalar fields go through apply_changes.
    apply_changes(
        project,
        ProjectPatch.model_validate(changes.model_dump(exclude_unset=True, exclude={"needs"})),
    )
    _period_check(project.starts_on, project.ends_on)
    if needs is not None:
        project.needs = [
            ProjectNeed(position=i, **need.model_dump()) for i, need in enumerate(needs)
        ]
    session.flush()
    return project
