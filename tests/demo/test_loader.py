"""The demo fixtures: complete, consistent, loadable once, realistic in size."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.demo.loader import load_demo, monday_of
from baskets.households.models import Household
from baskets.sponsorship.models import Project
from baskets.supply.models import Farmer, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory
from baskets.volunteers.models import Volunteer

MARSEILLE_QPV = {"Frais Vallon", "La Castellane", "Air Bel", "Félix Pyat", "La Busserine",
                 "Kalliste", "La Savine", "Malpassé", "Plan d'Aou", "La Cayolle", "Noailles",
                 "Les Flamants"}


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_demo_loads_once_with_the_promised_sizes(session: Session) -> None:
    """Both territories load with at least the sizes the platform issue asks for, once."""
    report = load_demo(session, week_start=date(2026, 11, 25))
    assert not report.skipped
    amp = session.scalar(select(Territory).where(Territory.code == "AMP"))
    assert amp is not None
    names = set(session.scalars(select(Neighbourhood.name).where(
        Neighbourhood.territory_id == amp.id)))
    assert MARSEILLE_QPV <= names
    in_amp = Organisation.territory_id == amp.id
    amp_orgs = select(Organisation.id).where(in_amp)
    assert _count(session, DistributionPoint,
                  DistributionPoint.organisation_id.in_(amp_orgs)) >= 15
    assert _count(session, Farmer, Farmer.organisation_id.in_(amp_orgs)) >= 20
    assert _count(session, Organisation, in_amp,
                  Organisation.kind == OrganisationKind.association) >= 8
    assert _count(session, Organisation, in_amp,
                  Organisation.kind == OrganisationKind.company) >= 10
    assert _count(session, Household, Household.organisation_id.in_(amp_orgs)) >= 1500
    assert _count(session, Volunteer, Volunteer.organisation_id.in_(amp_orgs)) >= 60
    assert _count(session, Project, Project.organisation_id.in_(amp_orgs)) >= 30
    assert session.scalar(select(Territory).where(Territory.code == "MUL")) is not None
    roles = set(session.scalars(select(User.role)))
    assert roles == set(Role)
    assert load_demo(session).skipped


def test_demo_dates_follow_the_week(session: Session) -> None:
    """Lots are dated from the week's Monday: none after the week, most within days of it
    (squash, rice and apples keep for months, so some are older)."""
    load_demo(session, week_start=date(2026, 11, 26))
    monday = monday_of(date(2026, 11, 26))
    harvests = list(session.scalars(select(SupplyLot.harvest_date)))
    assert monday == date(2026, 11, 23)
    assert all((day - monday).days <= 6 for day in harvests)
    recent = [day for day in harvests if abs((day - monday).days) <= 7]
    assert len(recent) > 0.6 * len(harvests)


def test_every_household_point_belongs_to_its_association(session: Session) -> None:
    """No demo household is served by another association's point."""
    load_demo(session, week_start=date(2026, 11, 23))
    mismatched = session.scalar(
        select(func.count()).select_from(Household)
        .join(DistributionPoint, DistributionPoint.id == Household.distribution_point_id)
        .where(DistributionPoint.organisation_id != Household.organisation_id)
    )
    assert mismatched == 0
