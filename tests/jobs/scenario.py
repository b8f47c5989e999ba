"""Generated programmes for the jobs tests and benchmarks: weeks over one or more territories.

A programme is a food team whose territory groups sub-territories (metropolis, region,
country): its associations run distribution points in neighbourhoods of each sub-territory, so
a week's households span several territories and its allocation splits into one part each.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.households.models import Household, ReferralReason
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory
from baskets.weeks.models import Week

PRODUCTS = [("Carottes", Category.vegetable, None, 20), ("Poireaux", Category.vegetable, None, 10),
            ("Courgettes", Category.vegetable, None, 8), ("Pommes", Category.fruit, None, 30),
            ("Poires", Category.fruit, None, 15), ("Œufs", Category.egg, 0.36, 21),
            ("Lentilles", Category.legume, None, 300), ("Salades", Category.vegetable, 0.3, 5)]


@dataclass
class Programme:
    team_id: uuid.UUID
    coordinator_id: uuid.UUID
    territories: list[uuid.UUID] = field(default_factory=list)
    weeks: list[uuid.UUID] = field(default_factory=list)
    households: int = 0


def make_programme(
    session: Session, *, territories: int = 1, households: int = 40, lots: int = 6,
    weeks: int = 1, seed: int = 1, points: int = 2, exclusions: float = 0.2,
    password_hash: str = "x", first_monday: date | None = None,
) -> Programme:
    """Create a programme with `weeks` weeks of `lots` lots each and `households` households
    spread over `territories` territories (`points` neighbourhoods and points each); a share
    `exclusions` of households exclude one to three products (more classes: a longer solve)."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:10]
    top = Territory(code=f"P{tag}", name=f"Programme {tag}")
    session.add(top)
    session.flush()
    team = Organisation(name=f"Équipe {tag}", kind=OrganisationKind.food_team, territory_id=top.id)
    session.add(team)
    session.flush()
    coordinator = User(organisation_id=team.id, email=f"coord.{tag}@jobs.example",
                       full_name="Coordination", role=Role.coordinator,
                       password_hash=password_hash)
    session.add(coordinator)
    session.flush()
    programme = Programme(team_id=team.id, coordinator_id=coordinator.id)
    made: list[DistributionPoint] = []
    for t in range(territories):
        sub = Territory(code=f"S{tag}{t}", name=f"Territoire {t}") if territories > 1 else top
        if territories > 1:
            session.add(sub)
            session.flush()
        programme.territories.append(sub.id)
        association = Organisation(name=f"Association {tag}-{t}",
                                   kind=OrganisationKind.association, territory_id=top.id)
        session.add(association)
        session.flush()
        for n in range(points):
            lat, lon = 43.0 + t + 0.01 * n, 5.0 + t + 0.01 * n
            hood = Neighbourhood(territory_id=sub.id, name=f"Quartier {t}-{n}",
                                 qpv_code=f"Q{tag}{t:02d}{n:03d}", lat=lat, lon=lon)
            session.add(hood)
            session.flush()
            point = DistributionPoint(organisation_id=association.id, neighbourhood_id=hood.id,
                                      name=f"Point {t}-{n}", address="1 rue du Marché",
                                      lat=lat, lon=lon)
            session.add(point)
            made.append(point)
    session.flush()
    products = [Product(name=f"{name} {tag}", category=category, unit_kg=unit,
                        shelf_life_days=days) for name, category, unit, days in PRODUCTS]
    farmer = Farmer(organisation_id=team.id, name=f"Ferme {tag}", siret="12345678900017",
                    address="Châteaurenard", lat=43.88, lon=4.85)
    session.add_all([*products, farmer])
    session.flush()
    monday = first_monday or date(2030, 1, 7)
    need_kg = 0.0
    for index in range(households):
        point = made[index % len(made)]
        adults, children = rng.randint(1, 3), rng.randint(0, 4)
        need_kg += 4.0 * (1 + 0.5 * (adults - 1) + 0.3 * children)
        excluded = ([str(p.id) for p in rng.sample(products, rng.randint(1, 3))]
                    if rng.random() < exclusions else [])
        session.add(Household(
            organisation_id=point.organisation_id, reference=f"G-{tag}-{index}",
            adults=adults, children=children, neighbourhood_id=point.neighbourhood_id,
            distribution_point_id=point.id, referral_reason=ReferralReason.other,
            excluded_products=excluded, valid_until=monday + timedelta(days=365),
            consent_date=monday, last_contact_date=monday))
    programme.households = households
    for w in range(weeks):
        week = Week(organisation_id=team.id, starts_on=monday + timedelta(days=7 * w))
        session.add(week)
        session.flush()
        start = datetime.combine(week.starts_on, datetime.min.time(), tzinfo=UTC)
        for j in range(lots):
            product = products[j % len(products)]
            kg = round(0.8 * need_kg / lots * rng.uniform(0.6, 1.4), 1)
            if product.unit_kg:
                kg = max(1, int(kg / product.unit_kg)) * product.unit_kg
            session.add(SupplyLot(organisation_id=team.id, week_id=week.id, farmer_id=farmer.id,
                                  product_id=product.id, quantity_kg=kg,
                                  harvest_date=week.starts_on, pickup_start=start,
                                  pickup_end=start + timedelta(hours=2), price_per_kg=2.0))
        programme.weeks.append(week.id)
    session.commit()
    return programme
