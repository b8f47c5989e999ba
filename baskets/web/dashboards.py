"""The home page of each role once logged in."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.common.scope import Actor
from baskets.households.service import households_query
from baskets.sponsorship.service import offers_query
from baskets.territory.service import points_query
from baskets.volunteers.models import Volunteer
from baskets.web.core import render


def _count(session: Session, query: Select[Any]) -> int:
    counted: int | None = session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery()))
    return counted or 0


def render_dashboard(request: Request, session: Session, actor: Actor) -> Response:
    """Pick the dashboard of the actor's role."""
    from baskets.web.pages import coordinator
    from baskets.web.pages.people import VEHICLE_NAMES

    if actor.role in (Role.coordinator, Role.admin):
        week = coordinator.current_week(session, actor)
        return render(request, "coordinator/dashboard.html", {
            "week": week, "status_names": coordinator.STATUS_NAMES,
            "category_names": coordinator.CATEGORY_NAMES,
            "supply": coordinator.supply_summary(session, actor, week) if week else None,
            "neighbourhoods": coordinator.households_by_neighbourhood(session, actor),
        })
    if actor.role is Role.association:
        points = list(session.scalars(points_query(actor)))
        return render(request, "association/dashboard.html", {
            "households": _count(session, households_query(actor)),
            "points": points,
        })
    if actor.role is Role.volunteer:
        volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == actor.user.id))
        return render(request, "volunteer/dashboard.html", {
            "volunteer": volunteer, "vehicle_names": VEHICLE_NAMES,
        })
    offers = list(session.scalars(offers_query(actor)))
    from baskets.engagements.service import pending_for

    return render(request, "company/dashboard.html", {
        "offers": offers, "total_hours": sum(o.hours for o in offers),
        "agreement_hours": actor.organisation.agreement_hours,
        "to_answer": pending_for(session, actor),
    })
