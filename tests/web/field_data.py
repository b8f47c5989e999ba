"""The live demo made ready for the field pages' browser tests: the AMP week allocated and its
rounds planned (short solves), moved whole weeks ahead when needed so that none has started
whatever the day the tests run (same weekdays, so availabilities still match), then put
back as it was."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PlannedWeek:
    week_id: uuid.UUID
    database_url: str


def move_rounds_ahead(session: Session, week_id: uuid.UUID) -> None:
    """Shift the week's rounds (and their stops) by whole weeks so the first starts at least
    an hour from now."""
    from baskets.rounds.models import Round, RoundStop

    rounds = list(session.scalars(select(Round).where(Round.week_id == week_id)))
    earliest = min(r.starts_at for r in rounds)
    wanted = datetime.now(UTC) + timedelta(hours=1)
    if earliest >= wanted:
        return
    shift = timedelta(weeks=math.ceil((wanted - earliest) / timedelta(weeks=1)))
    for rnd in rounds:
        rnd.starts_at += shift
        rnd.ends_at += shift
        rnd.day = (datetime.fromisoformat(rnd.day) + shift).date().isoformat()
    for stop in session.scalars(select(RoundStop).where(
            RoundStop.round_id.in_([r.id for r in rounds]))):
        stop.arrival_at += shift
        stop.window_start += shift
        stop.window_end += shift
    session.flush()


@contextmanager
def planned_demo_week(database_url: str) -> Iterator[PlannedWeek]:
    """The AMP draft (or allocated) week allocated and planned, rounds ahead of now; then
    the plan, the allocation (if it was a draft) and the week's status put back."""
    from baskets.accounts.models import Organisation
    from baskets.allocation import service as allocation
    from baskets.allocation.models import Allocation
    from baskets.db import make_engine, make_session_factory, unit_of_work
    from baskets.demo.week import _coordinator
    from baskets.rounds import service as rounds
    from baskets.rounds.models import RoundPlan
    from baskets.weeks.models import Week, WeekStatus

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        week = session.scalars(select(Week).join(Organisation).where(
            Organisation.name.like("%Aix-Marseille%"),
            # Another browser test may already have allocated it (the live demo is shared).
            Week.status.in_([WeekStatus.draft, WeekStatus.allocated]))
            .order_by(Week.starts_on)).first()
        assert week is not None
        week_id, status = week.id, week.status
        actor = _coordinator(session, week.organisation_id)
        allocation.allocate_week(session, actor=actor, week_id=week_id, time_limit=3, seed=1)
        rounds.plan_week_rounds(session, actor=actor, week_id=week_id, time_limit=5, seed=1)
        move_rounds_ahead(session, week_id)
        session.execute(update(Week).where(Week.id == week_id).values(status=status))
    try:
        yield PlannedWeek(week_id, database_url)
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(RoundPlan).where(RoundPlan.week_id == week_id))
            if status == WeekStatus.draft:
                session.execute(delete(Allocation).where(Allocation.week_id == week_id))
            session.execute(update(Week).where(Week.id == week_id).values(status=status))
        engine.dispose()
