"""Distribution weeks of the food team."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor, get_owned, owned
from baskets.errors import Conflict, InvalidInput
from baskets.weeks.models import Week, WeekStatus
from baskets.weeks.schemas import WeekIn, WeekPatch

WEEK = ("Semaine", "Week")


def weeks_query(actor: Actor, *, status: WeekStatus | None = None) -> Select[Week]:
    """The food team's weeks, newest first."""
    actor.require(Role.coordinator)
    query = owned(Week, actor).order_by(Week.starts_on.desc())
    if status is not None:
        query = query.where(Week.status == status)
    return query


def create_week(session: Session, *, actor: Actor, data: WeekIn) -> Week:
    """Open a draft week starting on a Monday, one per food team and date."""
    actor.require(Role.coordinator)
    clash = session.scalar(
        select(Week.id).where(
            Week.organisation_id == actor.organisation_id, Week.starts_on == data.starts_on
        )
    )
    if clash is not None:
        raise InvalidInput(
            "Une semaine commence déjà à cette date.",
            "A week already starts on this date.",
            [{"field": "starts_on", "message": "Semaine déjà ouverte."}],
        )
    week = Week(
        organisation_id=actor.organisation_id,
        starts_on=data.starts_on,
        policy=data.policy.model_dump(mode="json"),
    )
    session.add(week)
    session.flush()
    return week


def get_week(session: Session, *, actor: Actor, week_id: uuid.UUID) -> Week:
    """One of the food team's weeks."""
    actor.require(Role.coordinator)
    return get_owned(session, Week, week_id, actor, WEEK)


def update_week(session: Session, *, actor: Actor, week_id: uuid.UUID, changes: WeekPatch) -> Week:
    """Change the policy of a week that is not yet published."""
    week = get_week(session, actor=actor, week_id=week_id)
    if week.status in (WeekStatus.published, WeekStatus.done):
        raise Conflict(
            "Cette semaine est publiée : sa politique ne peut plus changer.",
            "This week is published: its policy can no longer change.",
        )
    week.policy = changes.policy.model_dump(mode="json")
    session.flush()
    return week
