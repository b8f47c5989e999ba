"""Data-protection rights: access/portability export, erasure, and retention.

Erasure removes what identifies a person (contact name, phone, address, and the reference,
replaced by a random one) and keeps sizes, neighbourhood and point so past aggregates stay
right; the household is archived. The audit trail records that the household was erased and
which fields, never their values (it never holds values).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation
from baskets.common.idempotency import forget_resource, purge_expired
from baskets.common.scope import Actor
from baskets.db import utcnow
from baskets.households import service as households
from baskets.households.models import Household, HouseholdAudit
from baskets.io import duplicates
from baskets.io.models import HouseholdFingerprint
from baskets.supply.models import Product
from baskets.territory.models import DistributionPoint, Neighbourhood

logger = logging.getLogger(__name__)

ERASED_FIELDS = ("address", "contact_name", "phone", "reference")
ERASED_PREFIX = "EFFACE-"
ERASE_ACTION = "erase"


def is_erased(session: Session, household_id: uuid.UUID) -> bool:
    """Whether the household was already erased (its audit says so)."""
    return session.scalar(
        select(HouseholdAudit.id).where(HouseholdAudit.household_id == household_id,
                                        HouseholdAudit.action == ERASE_ACTION).limit(1)
    ) is not None


def export_household(session: Session, *, actor: Actor, household_id: uuid.UUID,
                     now: datetime | None = None) -> dict[str, Any]:
    """Everything held about one of the association's households, as JSON-ready data."""
    household = households.get_household(session, actor=actor, household_id=household_id)
    organisation = session.get(Organisation, household.organisation_id)
    neighbourhood = session.get(Neighbourhood, household.neighbourhood_id)
    point = session.get(DistributionPoint, household.distribution_point_id)
    assert organisation is not None  # foreign keys guarantee all three
    assert neighbourhood is not None
    assert point is not None
    product_ids = [uuid.UUID(str(p)) for p in household.excluded_products]
    names = dict(session.execute(select(Product.id, Product.name)
                                 .where(Product.id.in_(product_ids))).all()) if product_ids else {}
    fingerprint = session.get(HouseholdFingerprint, household.id)
    # Reading a household's whole file is itself recorded (who, when; no values).
    session.add(HouseholdAudit(organisation_id=household.organisation_id,
                               household_id=household.id, user_id=actor.user.id,
                               action="export", fields=[]))
    session.flush()
    audit = session.scalars(
        select(HouseholdAudit).where(HouseholdAudit.household_id == household.id)
        .order_by(HouseholdAudit.created_at, HouseholdAudit.id)
    ).all()
    return {
        "exported_at": now or utcnow(),
        "household": households.to_out(household),
        "organisation": {"id": organisation.id, "name": organisation.name},
        "neighbourhood": {"id": neighbourhood.id, "name": neighbourhood.name,
                          "qpv_code": neighbourhood.qpv_code},
        "distribution_point": {"id": point.id, "name": point.name, "address": point.address},
        "excluded_product_names": [names.get(p, str(p)) for p in product_ids],
        "duplicate_fingerprint_stored": fingerprint is not None
        and fingerprint.digest is not None,
        "audit": [{"id": entry.id, "action": entry.action, "fields": entry.fields,
                   "user_id": entry.user_id, "created_at": entry.created_at}
                  for entry in audit],
    }


def _erase(session: Session, household: Household, user_id: uuid.UUID | None) -> bool:
    if is_erased(session, household.id):
        return False
    household.contact_name = None
    household.phone = None
    household.address = None
    household.reference = f"{ERASED_PREFIX}{uuid.uuid4().hex[:16].upper()}"
    if household.archived_at is None:
        household.archived_at = utcnow()
    duplicates.forget(session, household.id)
    # The creation's stored answer (Idempotency-Key) held the erased name, phone, address.
    forget_resource(session, household.id)
    session.add(HouseholdAudit(organisation_id=household.organisation_id,
                               household_id=household.id, user_id=user_id,
                               action=ERASE_ACTION, fields=list(ERASED_FIELDS)))
    session.flush()
    return True


def erase_household(session: Session, *, actor: Actor, household_id: uuid.UUID) -> Household:
    """Erase one of the association's households (again: nothing more happens)."""
    household = households.get_household(session, actor=actor, household_id=household_id)
    _erase(session, household, actor.user.id)
    return household


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class RetentionReport:
    """What a retention run erased (or would, in a dry run)."""

    dry_run: bool
    cutoff: date
    months: int
    households: list[dict[str, Any]] = field(default_factory=list)
    idempotency_purged: int = 0

    def counts(self) -> dict[uuid.UUID, int]:
        """Households erased per organisation."""
        per: dict[uuid.UUID, int] = {}
        for household in self.households:
            per[household["organisation_id"]] = per.get(household["organisation_id"], 0) + 1
        return per

    def as_dict(self, names: dict[uuid.UUID, str] | None = None) -> dict[str, Any]:
        """What was done, in counts: no household id, reference or date leaves the job."""
        return {"dry_run": self.dry_run, "cutoff": self.cutoff, "months": self.months,
                "erased": len(self.households),
                "idempotency_records_purged": self.idempotency_purged,
                "organisations": [{"organisation_id": org,
                                   "organisation": (names or {}).get(org, ""),
                                   "households": count}
                                  for org, count in sorted(self.counts().items(),
                                                           key=lambda kv: str(kv[0]))]}

    def summary(self) -> str:
        """One log line: counts only."""
        verb = "would erase" if self.dry_run else "erased"
        return (f"retention ({self.months} months, cutoff {self.cutoff.isoformat()}): {verb} "
                f"{len(self.households)} household(s) in {len(self.counts())} organisation(s)")


def organisation_names(session: Session, report: RetentionReport) -> dict[uuid.UUID, str]:
    """Names of the organisations a retention report counts (for its printed summary)."""
    ids = list(report.counts())
    return dict(session.execute(select(Organisation.id, Organisation.name)
                                .where(Organisation.id.in_(ids))).all()) if ids else {}


def erase_inactive(session: Session, *, now: datetime, months: int,
                   dry_run: bool = False,
                   idempotency_ttl: timedelta | None = None) -> RetentionReport:
    """Erase every household whose last contact is older than `months` (all organisations).

    A plain service function so a scheduled job (cron, Celery beat) and `baskets gdpr
    retention` both call it; it logs one line of counts, never a household.
    """
    cutoff = months_before(now.date(), months)
    erased = select(HouseholdAudit.household_id).where(HouseholdAudit.action == ERASE_ACTION)
    found = session.scalars(
        select(Household).where(Household.last_contact_date < cutoff,
                                Household.id.not_in(erased))
        .order_by(Household.organisation_id, Household.last_contact_date, Household.id)
    ).all()
    report = RetentionReport(dry_run=dry_run, cutoff=cutoff, months=months)
    for household in found:
        report.households.append({"household_id": household.id,
                                  "organisation_id": household.organisation_id,
                                  "last_contact_date": household.last_contact_date})
        if not dry_run:
            _erase(session, household, None)
    if idempotency_ttl is not None and not dry_run:
        # Stored answers of creates (names, phones) are not kept beyond their replay window.
        report.idempotency_purged = purge_expired(session, now=now, ttl=idempotency_ttl)
    logger.info(report.summary())
    return report

