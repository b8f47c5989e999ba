"""A small allocated week for the export, report and log tests: two neighbourhoods, two
associations, two farmers, lots by weight and by the piece, households with names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from baskets.allocation import service as allocation
from baskets.households.models import Household, ReferralReason
from baskets.supply.models import Category, Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.weeks.models import Week
from tests.api.records import MONDAY
from tests.io.helpers import PEOPLE, actor
from tests.world import World

# (association, point key, adults, children, excludes eggs)
SIZES = [("assoc1", "point1", 1, 0, False), ("assoc1", "point1", 2, 2, False),
         ("assoc1", "point1", 1, 1, True), ("assoc1b", "point_b", 2, 0, False),
         ("assoc1b", "point_b", 1, 3, False), ("assoc1b", "point_b", 4, 2, False)]


def make_week(session: Session, world: World, *, allocate: bool = True,
              kg: float = 30.0) -> uuid.UUID:
    """Team1's week in three weeks: 4 lots, 6 households; allocated through the service."""
    w = world.ids
    suffix = uuid.uuid4().hex[:6]
    other = Neighbourhood(territory_id=w["t1"], name="La Castellane",
                          qpv_code=f"QX{int(suffix, 16) % 10**7:07d}", lat=43.36, lon=5.35)
    session.add(other)
    session.flush()
    point_b = DistributionPoint(organisation_id=w["assoc1b"], neighbourhood_id=other.id,
                                name="Maison de quartier Castellane", address="4 rue D",
                                lat=43.36, lon=5.35)
    farm_a = Farmer(organisation_id=w["team1"], name="Ferme des Paluds", siret="12345678900017",
                    address="Châteaurenard", lat=43.88, lon=4.85)
    farm_b = Farmer(organisation_id=w["team1"], name="Mas de la Crau", siret="98765432100012",
                    address="Saint-Martin-de-Crau", lat=43.64, lon=4.81)
    carrots = Product(name=f"Carottes {suffix}", category=Category.vegetable, unit_kg=None,
                      shelf_life_days=20)
    week = Week(organisation_id=w["team1"], starts_on=MONDAY + timedelta(days=21))
    session.add_all([point_b, farm_a, farm_b, carrots, week])
    session.flush()
    points = {"point1": w["point1"], "point_b": point_b.id}
    hoods = {"point1": w["n1"], "point_b": other.id}
    start = datetime.combine(week.starts_on, datetime.min.time(), tzinfo=UTC)
    for farmer, product_id, quantity, price in (
            (farm_a, w["leek"], kg, 1.8), (farm_a, carrots.id, kg, 1.2),
            (farm_b, w["eggs"], 60 * 0.36, 4.5), (farm_b, carrots.id, kg / 2, 1.1)):
        session.add(SupplyLot(organisation_id=w["team1"], week_id=week.id, farmer_id=farmer.id,
                              product_id=product_id, quantity_kg=quantity,
                              harvest_date=week.starts_on, pickup_start=start,
                              pickup_end=start + timedelta(hours=2), price_per_kg=price))
    for index, (assoc, point, adults, children, no_eggs) in enumerate(SIZES):
        name, phone, address = PEOPLE[index % len(PEOPLE)]
        session.add(Household(
            organisation_id=w[assoc], reference=f"WK-{index}", contact_name=name, phone=phone,
            address=address, adults=adults, children=children, neighbourhood_id=hoods[point],
            distribution_point_id=points[point], referral_reason=ReferralReason.other,
            excluded_products=[str(w["eggs"])] if no_eggs else [],
            valid_until=week.starts_on + timedelta(days=30),
            consent_date=MONDAY, last_contact_date=MONDAY))
    session.flush()
    if allocate:
        allocation.allocate_week(session, actor=actor(session, world, "coord1"),
                                 week_id=week.id, time_limit=5, seed=1)
    session.commit()
    return week.id
