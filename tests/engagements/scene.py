"""A small matching scene in territory 1, shared by the API and page tests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.territory.models import Neighbourhood
from baskets.volunteers.models import Volunteer
from tests.world import World

TODAY = date.today()


def make_scene(session: Session, world: World) -> dict[str, uuid.UUID]:
    """Territory 1: company1's accounting offer (20 h), volunteer1 (accounting, 6 h), and two
    projects of two associations in two neighbourhoods needing 24 h of accounting and 5 h of
    plumbing that nobody offers."""
    w = world.ids
    n1b = Neighbourhood(territory_id=w["t1"], name="Bassens",
                        qpv_code=f"QB{uuid.uuid4().int % 10**7:07d}", lat=43.35, lon=5.39)
    session.add(n1b)
    session.flush()
    offer = Offer(organisation_id=w["company1"], title="Comptabilité", skills={"accounting": 4},
                  hours=20, starts_on=TODAY - timedelta(days=7),
                  ends_on=TODAY + timedelta(days=60), lat=43.3, lon=5.4, max_km=20,
                  min_chunk_hours=2)
    p1 = Project(organisation_id=w["assoc1"], neighbourhood_id=w["n1"], title="=1+1 Épicerie",
                 starts_on=TODAY - timedelta(days=7), ends_on=TODAY + timedelta(days=90),
                 lat=43.33, lon=5.42,
                 needs=[ProjectNeed(position=0, skill="accounting", min_level=3, hours=12)])
    p2 = Project(organisation_id=w["assoc1b"], neighbourhood_id=n1b.id, title="Repair café",
                 starts_on=TODAY - timedelta(days=7), ends_on=TODAY + timedelta(days=90),
                 lat=43.35, lon=5.39,
                 needs=[ProjectNeed(position=0, skill="accounting", min_level=2, hours=12),
                        ProjectNeed(position=1, skill="plumbing", min_level=1, hours=5)])
    volunteer = Volunteer(user_id=w["user_volunteer1"], organisation_id=w["team1"],
                          home_area="Marseille 14e", lat=43.34, lon=5.41,
                          skills={"accounting": 3}, hours_per_month=6, max_km=10)
    session.add_all([offer, p1, p2, volunteer])
    session.commit()
    return {"offer": offer.id, "p1": p1.id, "p2": p2.id, "volunteer": volunteer.id}
