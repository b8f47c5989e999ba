"""Volunteers sign up and keep their profile; coordinators list them; the team's vehicles."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.accounts.service import email_taken
from baskets.common.scope import Actor, get_owned, owned
from baskets.common.service import apply_changes
from baskets.errors import InvalidInput, NotFound
from baskets.territory.models import Territory
from baskets.volunteers.models import Vehicle, VehicleKind, Volunteer
from baskets.volunteers.schemas import VehicleIn, VehiclePatch, VolunteerProfile, VolunteerSignup

VOLUNTEER = ("Bénévole", "Volunteer")
VEHICLE = ("Véhicule", "Vehicle")


def to_out(volunteer: Volunteer, user: User) -> dict[str, Any]:
    """A volunteer's profile with their display name."""
    data = {column: getattr(volunteer, column) for column in Volunteer.__table__.columns.keys()}
    data["full_name"] = user.full_name
    return data


def _check_vehicle(profile: VolunteerProfile) -> None:
    if profile.vehicle_kind is not VehicleKind.none and profile.capacity_kg <= 0:
        raise InvalidInput(
            "Indiquez la capacité de votre véhicule en kg.",
            "Give your vehicle's capacity in kg.",
            [{"field": "capacity_kg", "message": "Doit être supérieur à 0 avec un véhicule."}],
        )
    if profile.refrigerated and profile.vehicle_kind is VehicleKind.none:
        raise InvalidInput(
            "Un véhicule réfrigéré suppose un véhicule.",
            "A refrigerated vehicle needs a vehicle.",
            [{"field": "refrigerated", "message": "Aucun véhicule indiqué."}],
        )


def signup(session: Session, *, data: VolunteerSignup, password_hash: str
           ) -> tuple[Volunteer, User] | None:
    """Create a volunteer account with the food team of the chosen territory; None (nothing
    written, no error) when the address already has an account, so the caller answers the
    same either way. `password_hash` is computed beforehand, outside the transaction."""
    _check_vehicle(data)
    territory = session.scalar(select(Territory).where(Territory.code == data.territory_code))
    team = None
    if territory is not None:
        team = session.scalar(
            select(Organisation)
            .where(Organisation.territory_id == territory.id)
            .where(Organisation.kind == OrganisationKind.food_team)
            .order_by(Organisation.created_at)
        )
    if team is None:
        raise InvalidInput(
            "Aucun programme n'existe pour ce territoire.",
            "There is no programme for this territory.",
            [{"field": "territory_code", "message": "Territoire inconnu."}],
        )
    if email_taken(session, data.email):
        return None
    user = User(
        organisation_id=team.id,
        email=data.email.lower(),
        full_name=data.full_name,
        role=Role.volunteer,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    profile = VolunteerProfile.model_validate(
        data.model_dump(include=set(VolunteerProfile.model_fields))
    )
    volunteer = Volunteer(
        user_id=user.id, organisation_id=team.id, **profile.model_dump(mode="json")
    )
    session.add(volunteer)
    session.flush()
    return volunteer, user


def my_profile(session: Session, *, actor: Actor) -> Volunteer:
    """The volunteer's own profile."""
    actor.require(Role.volunteer)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == actor.user.id))
    if volunteer is None:
        raise NotFound(*VOLUNTEER)
    return volunteer


def update_my_profile(session: Session, *, actor: Actor, data: VolunteerProfile) -> Volunteer:
    """Replace the volunteer's own profile."""
    _check_vehicle(data)
    volunteer = my_profile(session, actor=actor)
    for field, value in data.model_dump(mode="json").items():
        setattr(volunteer, field, value)
    session.flush()
    return volunteer


def user_of(session: Session, volunteer: Volunteer) -> User:
    """The account behind a volunteer profile."""
    user = session.get(User, volunteer.user_id)
    assert user is not None  # foreign key guarantees it
    return user


def volunteers_query(
    actor: Actor, *, vehicle_kind: VehicleKind | None = None
) -> Select[Volunteer]:
    """The food team's volunteers by name, filtered by vehicle kind."""
    actor.require(Role.coordinator)
    query = (
        select(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.organisation_id == actor.organisation_id)
        .order_by(User.full_name)
    )
    if vehicle_kind is not None:
        query = query.where(Volunteer.vehicle_kind == vehicle_kind)
    return query


def get_volunteer(
    session: Session, *, actor: Actor, volunteer_id: uuid.UUID
) -> tuple[Volunteer, User]:
    """One of the food team's volunteers."""
    actor.require(Role.coordinator)
    volunteer = get_owned(session, Volunteer, volunteer_id, actor, VOLUNTEER)
    return volunteer, user_of(session, volunteer)


def vehicles_query(actor: Actor) -> Select[Vehicle]:
    """The food team's own vehicles."""
    actor.require(Role.coordinator)
    return owned(Vehicle, actor).order_by(Vehicle.name)


def create_vehicle(session: Session, *, actor: Actor, data: VehicleIn) -> Vehicle:
    """Add a vehicle to the food team's fleet."""
    actor.require(Role.coordinator)
    vehicle = Vehicle(organisation_id=actor.organisation_id, **data.model_dump())
    session.add(vehicle)
    session.flush()
    return vehicle


def get_vehicle(session: Session, *, actor: Actor, vehicle_id: uuid.UUID) -> Vehicle:
    """One of the food team's vehicles."""
    actor.require(Role.coordinator)
    return get_owned(session, Vehicle, vehicle_id, actor, VEHICLE)


def update_vehicle(
    session: Session, *, actor: Actor, vehicle_id: uuid.UUID, changes: VehiclePatch
) -> Vehicle:
    """Change one of the food team's vehicles."""
    vehicle = get_vehicle(session, actor=actor, vehicle_id=vehicle_id)
    apply_changes(vehicle, changes)
    session.flush()
    return vehicle
