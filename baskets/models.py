"""Every model, imported once so metadata is complete (Alembic and the fixtures use this)."""

from baskets.accounts.models import Organisation, User
from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.common.models import IdempotencyRecord
from baskets.db import Base
from baskets.engagements.models import Engagement, HoursLog, MatchingRun
from baskets.households.models import Household, HouseholdAudit
from baskets.io.models import HouseholdFingerprint
from baskets.jobs.models import Job
from baskets.rounds.models import Round, RoundPlan, RoundStop, UnservedStop
from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory
from baskets.volunteers.models import Vehicle, Volunteer
from baskets.weeks.models import Week

__all__ = [
    "AllocatedBasket",
    "Allocation",
    "Base",
    "DistributionPoint",
    "Engagement",
    "Farmer",
    "Household",
    "HouseholdAudit",
    "HouseholdFingerprint",
    "HoursLog",
    "IdempotencyRecord",
    "Job",
    "MatchingRun",
    "Neighbourhood",
    "Offer",
    "Organisation",
    "Product",
    "Project",
    "Round",
    "RoundPlan",
    "RoundStop",
    "ProjectNeed",
    "SupplyLot",
    "Territory",
    "UnservedStop",
    "User",
    "Vehicle",
    "Volunteer",
    "Week",
]
