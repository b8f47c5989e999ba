"""A small test world: two territories, their organisations and a user of every role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.accounts.security import hash_password, issue_token
from baskets.config import Settings
from baskets.supply.models import Category, Product
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory

PASSWORD = "correct horse battery"
# Argon2 is slow on purpose: hash the shared test password once per run.
PASSWORD_HASH = hash_password(PASSWORD)


@dataclass
class World:
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """Authorization header of the user named `who`."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def build_world(session: Session, settings: Settings) -> World:
    """Create territories T1 and T2 with food teams, associations, a company and users."""
    world = World()
    suffix = uuid.uuid4().hex[:8]

    def add(name: str, record: object) -> None:
        session.add(record)
        session.flush()
        world.ids[name] = record.id  # type: ignore[attr-defined]

    add("t1", Territory(code=f"T1{suffix}", name="Territoire 1"))
    add("t2", Territory(code=f"T2{suffix}", name="Territoire 2"))
    add("n1", Neighbourhood(territory_id=world.ids["t1"], name="Frais Vallon",
                            qpv_code=f"QN{int(suffix, 16) % 10**7:07d}", lat=43.33, lon=5.42))
    add("n2", Neighbourhood(territory_id=world.ids["t2"], name="Bourtzwiller",
                            qpv_code=f"QN{(int(suffix, 16) + 1) % 10**7:07d}", lat=47.77,
                            lon=7.33))
    orgs = {
        "team1": (OrganisationKind.food_team, "t1"),
        "assoc1": (OrganisationKind.association, "t1"),
        "assoc1b": (OrganisationKind.association, "t1"),
        "company1": (OrganisationKind.company, "t1"),
        "team2": (OrganisationKind.food_team, "t2"),
        "assoc2": (OrganisationKind.association, "t2"),
        "company2": (OrganisationKind.company, "t2"),
    }
    for name, (kind, territory) in orgs.items():
        add(name, Organisation(name=f"Org {name}", kind=kind, territory_id=world.ids[territory],
                               agreement_hours=100.0 if kind is OrganisationKind.company else None,
                               hourly_cost=45.0 if kind is OrganisationKind.company else None))
    users = {
        "admin": (Role.admin, "team1"),
        "coord1": (Role.coordinator, "team1"),
        "assoc1": (Role.association, "assoc1"),
        "assoc1b": (Role.association, "assoc1b"),
        "company1": (Role.company, "company1"),
        "volunteer1": (Role.volunteer, "team1"),
        "coord2": (Role.coordinator, "team2"),
        "assoc2": (Role.association, "assoc2"),
        "company2": (Role.company, "company2"),
        "volunteer2": (Role.volunteer, "team2"),
    }
    for name, (role, org) in users.items():
        email = f"{name}.{suffix}@test.example"
        add(f"user_{name}", User(organisation_id=world.ids[org], email=email,
                                 full_name=f"User {name}", role=role,
                                 password_hash=PASSWORD_HASH))
        world.emails[name] = email
        world.tokens[name] = issue_token(world.ids[f"user_{name}"], secret=settings.secret_key,
                                         ttl_minutes=60)
    add("point1", DistributionPoint(organisation_id=world.ids["assoc1"],
                                    neighbourhood_id=world.ids["n1"], name="Centre social 1",
                                    address="1 rue A", lat=43.33, lon=5.42,
                                    opening_hours=[{"weekday": 2, "opens": "14:00",
                                                    "closes": "18:00"}]))
    add("point1b", DistributionPoint(organisation_id=world.ids["assoc1b"],
                                     neighbourhood_id=world.ids["n1"], name="Point 1b",
                                     address="2 rue B", lat=43.34, lon=5.41))
    add("point2", DistributionPoint(organisation_id=world.ids["assoc2"],
                                    neighbourhood_id=world.ids["n2"], name="Centre 2",
                                    address="3 rue C", lat=47.77, lon=7.33))
    add("leek", Product(name=f"Poireaux {suffix}", category=Category.vegetable, unit_kg=None,
                        shelf_life_days=10))
    add("eggs", Product(name=f"Œufs {suffix}", category=Category.egg, unit_kg=0.36,
                        shelf_life_days=21))
    return world
