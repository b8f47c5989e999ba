"""Possible duplicate households across associations, found without sharing anyone's data.

Each household gets a keyed hash (HMAC-SHA256 with the fingerprints sub-key derived from the
secret key) of its normalised contact name and phone. Two associations whose households share
a hash are told only that one of their own households has a twin elsewhere; coordinators see
counts per pair of associations. The hash is keyed so that nobody holding the table can test
a guessed name and phone; lookups are rate-limited per user and audited (DuplicateLookup).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from baskets.accounts.models import Organisation, Role
from baskets.accounts.security import FINGERPRINTS, sub_key
from baskets.common.scope import Actor
from baskets.db import utcnow
from baskets.households.models import Household
from baskets.io.columns import normalise
from baskets.io.models import DuplicateLookup, HouseholdFingerprint


def normalise_name(name: str) -> str:
    """Words of the name, accents and punctuation removed, in alphabetical order."""
    return " ".join(sorted(normalise(name).split()))


def normalise_phone(phone: str) -> str:
    """Digits only, French international forms (+33, 0033) folded to the national 0."""
    digits = re.sub(r"\D", "", phone)
    for prefix in ("0033", "33"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 9:
            return "0" + digits[len(prefix):]
    return digits


def fingerprint(secret: str, contact_name: str | None, phone: str | None) -> str | None:
    """The keyed hash of a household's identifying fields, or None if one is missing."""
    if not contact_name or not phone:
        return None
    name, number = normalise_name(contact_name), normalise_phone(phone)
    if not name or len(number) < 6:
        return None
    # v2: keyed with the fingerprints sub-key (v1 used the secret key itself; migration 0211
    # dropped those rows and `refresh` recomputes them from the stored fields).
    message = f"household-v2|{name}|{number}".encode()
    return hmac.new(sub_key(secret, FINGERPRINTS), message, hashlib.sha256).hexdigest()


def refresh(session: Session, *, secret: str, organisation_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the fingerprints of these organisations' households changed since; the count."""
    ids = list(organisation_ids)
    if not ids:
        return 0
    stale = session.execute(
        select(Household.id, Household.organisation_id, Household.contact_name, Household.phone,
               Household.archived_at, HouseholdFingerprint.household_id)
        .outerjoin(HouseholdFingerprint, HouseholdFingerprint.household_id == Household.id)
        .where(Household.organisation_id.in_(ids))
        .where(or_(HouseholdFingerprint.household_id.is_(None),
                   HouseholdFingerprint.computed_at < Household.updated_at))
    ).all()
    if not stale:
        return 0
    now = utcnow()
    existing = [row[0] for row in stale if row[5] is not None]
    for start in range(0, len(existing), 1000):
        session.execute(delete(HouseholdFingerprint).where(
            HouseholdFingerprint.household_id.in_(existing[start:start + 1000])))
    rows = [
        {"household_id": household_id, "organisation_id": organisation_id,
         # Archived households no longer take part: they are not flagged, nor flag others.
         "digest": None if archived_at is not None else fingerprint(secret, name, phone),
         "computed_at": now}
        for household_id, organisation_id, name, phone, archived_at, _ in stale
    ]
    connection = session.connection()
    for start in range(0, len(rows), 1000):
        connection.execute(insert(HouseholdFingerprint.__table__),  # type: ignore[arg-type]
                           rows[start:start + 1000])
    session.flush()
    return len(rows)


def territory_organisations(session: Session, territory_id: uuid.UUID) -> list[uuid.UUID]:
    """Every organisation of a territory."""
    return list(session.scalars(
        select(Organisation.id).where(Organisation.territory_id == territory_id)))


def _refresh_territory(session: Session, secret: str, territory_id: uuid.UUID) -> None:
    refresh(session, secret=secret,
            organisation_ids=territory_organisations(session, territory_id))


def record_lookup(session: Session, *, actor: Actor, kind: str, checked: int,
                  flagged: int) -> None:
    """Audit one duplicate lookup: who, when, how many households checked and flagged."""
    session.add(DuplicateLookup(organisation_id=actor.organisation_id, user_id=actor.user.id,
                                kind=kind, households=checked, flagged=flagged))
    session.flush()


def my_duplicates(session: Session, *, actor: Actor, secret: str) -> list[Household]:
    """The association's active households that have a twin in another association (each
    lookup audited)."""
    actor.require(Role.association)
    _refresh_territory(session, secret, actor.territory_id)
    mine = aliased(HouseholdFingerprint)
    other = aliased(HouseholdFingerprint)
    twin = (
        select(other.household_id)
        .join(Organisation, Organisation.id == other.organisation_id)
        .where(other.digest == mine.digest, other.organisation_id != actor.organisation_id,
               Organisation.territory_id == actor.territory_id)
        .exists()
    )
    found = list(session.scalars(
        select(Household)
        .join(mine, mine.household_id == Household.id)
        .where(Household.organisation_id == actor.organisation_id,
               Household.archived_at.is_(None), mine.digest.is_not(None), twin)
        .order_by(Household.reference)
    ))
    checked = session.scalar(select(func.count()).select_from(HouseholdFingerprint).where(
        HouseholdFingerprint.organisation_id == actor.organisation_id,
        HouseholdFingerprint.digest.is_not(None))) or 0
    record_lookup(session, actor=actor, kind="list", checked=int(checked), flagged=len(found))
    return found


def digests_elsewhere(session: Session, *, actor: Actor, secret: str,
                      digests: Iterable[str]) -> set[str]:
    """Which of these digests belong to another association of the territory (the other
    associations' fingerprints refreshed first; the lookup audited).

    One scan of the territory's other fingerprints, intersected here: long IN lists against a
    freshly filled table make PostgreSQL's planner pick sequential scans per chunk.
    """
    wanted = set(digests)
    if not wanted:
        return set()
    refresh(session, secret=secret, organisation_ids=[
        org for org in territory_organisations(session, actor.territory_id)
        if org != actor.organisation_id])
    others = session.scalars(
        select(HouseholdFingerprint.digest)
        .join(Organisation, Organisation.id == HouseholdFingerprint.organisation_id)
        .where(HouseholdFingerprint.digest.is_not(None),
               HouseholdFingerprint.organisation_id != actor.organisation_id,
               Organisation.territory_id == actor.territory_id)
    )
    found = {digest for digest in others if digest in wanted}
    record_lookup(session, actor=actor, kind="import", checked=len(wanted), flagged=len(found))
    return found


def pair_counts(session: Session, *, actor: Actor, secret: str
                ) -> list[tuple[Organisation, Organisation, int]]:
    """For coordinators: per pair of associations of the territory, how many twins they share."""
    actor.require(Role.coordinator)
    _refresh_territory(session, secret, actor.territory_id)
    a = aliased(HouseholdFingerprint)
    b = aliased(HouseholdFingerprint)
    org_a = aliased(Organisation)
    org_b = aliased(Organisation)
    rows = session.execute(
        select(org_a, org_b, func.count(func.distinct(a.digest)))
        .select_from(a)
        .join(b, and_(a.digest == b.digest, a.organisation_id < b.organisation_id))
        .join(org_a, org_a.id == a.organisation_id)
        .join(org_b, org_b.id == b.organisation_id)
        .where(a.digest.is_not(None), org_a.territory_id == actor.territory_id,
               org_b.territory_id == actor.territory_id)
        .group_by(org_a.id, org_b.id)
    ).all()
    result = [(first, second, int(count)) for first, second, count in rows]
    return sorted(result, key=lambda item: (-item[2], item[0].name, item[1].name))


def forget(session: Session, household_id: uuid.UUID) -> None:
    """Drop a household's fingerprint (erasure); a later refresh stores an empty one."""
    session.execute(delete(HouseholdFingerprint).where(
        HouseholdFingerprint.household_id == household_id))
