"""Volunteers: sign up, keep a profile; coordinators list them; the team's vehicles."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from baskets.accounts import service as accounts
from baskets.accounts.ratelimit import Throttle, client_address
from baskets.api.deps import (
    ActorDep,
    IdempotencyKey,
    LocaleDep,
    PageDep,
    SessionDep,
    SettingsDep,
)
from baskets.common.idempotency import create_once
from baskets.common.pagination import Page, paginate
from baskets.volunteers import service
from baskets.volunteers.models import VehicleKind
from baskets.volunteers.schemas import (
    SignupOut,
    VehicleIn,
    VehicleOut,
    VehiclePatch,
    VolunteerOut,
    VolunteerProfile,
    VolunteerSignup,
)

router = APIRouter(tags=["volunteers"])

SIGNUP_ACCEPTED = {
    "fr": "Inscription reçue : connectez-vous avec votre adresse e-mail et votre mot de passe.",
    "en": "Sign-up received: log in with your e-mail address and password.",
}


@router.post("/volunteers/signup", response_model=SignupOut, status_code=202,
             responses={429: {"description": "Too many sign-ups (Retry-After)"}})
def signup(data: VolunteerSignup, request: Request, session: SessionDep,
           settings: SettingsDep, locale: LocaleDep) -> Any:
    """The same answer whether the address is new or already has an account (nobody can
    test who is registered); the holder of a taken address is told by e-mail once the
    platform sends e-mail."""
    throttle: Throttle = request.app.state.throttle
    address = client_address(request, settings)
    if not throttle.hit(throttle.signups, address):
        raise throttle.refuse(throttle.signups, address,
                              "Trop d'inscriptions ; réessayez dans une minute.",
                              "Too many sign-ups; try again in a minute.")
    # Hashed before any query, for new and taken addresses alike (same time, no transaction).
    password_hash = accounts.new_password_hash(data.password, email=data.email)
    service.signup(session, data=data, password_hash=password_hash)
    return SignupOut(message=SIGNUP_ACCEPTED[locale])


@router.get("/volunteers/me", response_model=VolunteerOut)
def my_profile(actor: ActorDep, session: SessionDep) -> Any:
    return VolunteerOut.model_validate(
        service.to_out(service.my_profile(session, actor=actor), actor.user))


@router.put("/volunteers/me", response_model=VolunteerOut)
def update_my_profile(data: VolunteerProfile, actor: ActorDep, session: SessionDep) -> Any:
    volunteer = service.update_my_profile(session, actor=actor, data=data)
    return VolunteerOut.model_validate(service.to_out(volunteer, actor.user))


@router.get("/volunteers", response_model=Page[VolunteerOut])
def list_volunteers(actor: ActorDep, session: SessionDep, page: PageDep,
                    vehicle_kind: VehicleKind | None = None) -> dict[str, Any]:
    return paginate(session, service.volunteers_query(actor, vehicle_kind=vehicle_kind),
                    limit=page.limit, offset=page.offset,
                    to_item=lambda volunteer: VolunteerOut.model_validate(
                        service.to_out(volunteer, service.user_of(session, volunteer))))


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(volunteer_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    volunteer, user = service.get_volunteer(session, actor=actor, volunteer_id=volunteer_id)
    return VolunteerOut.model_validate(service.to_out(volunteer, user))


@router.get("/vehicles", response_model=Page[VehicleOut])
def list_vehicles(actor: ActorDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    return paginate(session, service.vehicles_query(actor), limit=page.limit, offset=page.offset,
                    to_item=VehicleOut.model_validate)


@router.post("/vehicles", response_model=VehicleOut, status_code=201)
def create_vehicle(data: VehicleIn, actor: ActorDep, session: SessionDep,
                   key: IdempotencyKey = None) -> Any:
    return create_once(session, actor, key=key, route="vehicles", payload=data,
                       create=lambda: VehicleOut.model_validate(
                           service.create_vehicle(session, actor=actor, data=data)))


@router.get("/vehicles/{vehicle_id}", response_model=VehicleOut)
def get_vehicle(vehicle_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    return service.get_vehicle(session, actor=actor, vehicle_id=vehicle_id)


@router.patch("/vehicles/{vehicle_id}", response_model=VehicleOut)
def update_vehicle(vehicle_id: uuid.UUID, changes: VehiclePatch, actor: ActorDep,
                   session: SessionDep) -> Any:
    return service.update_vehicle(session, actor=actor, vehicle_id=vehicle_id, changes=changes)
