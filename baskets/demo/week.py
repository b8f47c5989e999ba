"""Run the demo's week: every draft week of every food team is allocated, its rounds planned
and drivers assigned; then each team's projects are matched."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, Role, User
from baskets.allocation import service as allocation
from baskets.common.scope import Actor
from baskets.rounds import service as rounds
from baskets.weeks.models import Week, WeekStatus


def _coordinator(session: Session, team_id: object) -> Actor:
    user = session.scalars(
        select(User).where(User.organisation_id == team_id, User.role == Role.coordinator)
        .order_by(User.email)
    ).first()
    organisation = session.get(Organisation, team_id)
    assert user is not None
    assert organisation is not None
    return Actor(user=user, organisation=organisation)


def run_week(session: Session, *, time_limit: float, seed: int,
             options: rounds.PlanningOptions | None = None) -> Iterator[str]:
    """Allocate each draft week, plan its rounds and assign drivers, yielding French lines of
    figures."""
    for week in list(session.scalars(select(Week).where(Week.status == WeekStatus.draft))):
        actor = _coordinator(session, week.organisation_id)
        stored = allocation.allocate_week(session, actor=actor, week_id=week.id,
                                          time_limit=time_limit, seed=seed)
        m = stored.metrics
        yield (
            f"{actor.organisation.name} — semaine du {week.starts_on:%d/%m/%Y} : "
            f"{m.get('households', 0)} foyers, couverture minimale "
            f"{100 * float(m.get('min_coverage', 0)):.0f} %, moyenne "
            f"{100 * float(m.get('mean_coverage', 0)):.0f} %, "
            f"{float(m.get('kg_allocated', 0)):.0f} kg alloués en {stored.wall_seconds:.1f} s"
        )
        plan = rounds.plan_week_rounds(session, actor=actor, week_id=week.id,
                                       time_limit=time_limit, seed=seed, options=options)
        staffed = rounds.assign_week_drivers(session, actor=actor, week_id=week.id, pins=[],
                                             excludes=[], time_limit=min(time_limit, 10.0),
                                             seed=seed, options=options)
        r = plan.metrics
        yield (
            f"{actor.organisation.name} — tournées : {r['rounds']} tournées, "
            f"{float(r['km']):.0f} km, {r['unserved']} étapes non desservies "
            f"({float(r['unserved_kg']):.0f} kg), chauffeur bénévole affecté à "
            f"{len(staffed['assignments'])} sur {r['rounds']}, en {plan.wall_seconds:.1f} s"
        )
    yield from _matching(session, time_limit=time_limit, seed=seed)


def _matching(session: Session, *, time_limit: float, seed: int) -> Iterator[str]:
    """Match each food team's territory: projects with offers and volunteers."""
    from baskets.accounts.models import OrganisationKind
    from baskets.engagements import service as engagements
    from baskets.errors import InvalidInput

    for team in session.scalars(select(Organisation).where(
            Organisation.kind == OrganisationKind.food_team).order_by(Organisation.name)):
        actor = _coordinator(session, team.id)
        try:
            run = engagements.run_matching(session, actor=actor, time_limit=time_limit,
                                           seed=seed)
        except InvalidInput as exc:  # no open project in the territory
            yield f"{team.name} — appariement : {exc.message_fr}"
            continue
        yield f"{team.name} — appariement : {engagements.summary_fr(run)}"
