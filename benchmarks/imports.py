"""Rows per second of the households import: a generated 100,000-row CSV, dry run and commit,
on SQLite and on PostgreSQL.

    PYTHONPATH=. python benchmarks/imports.py [--rows 100000] [--backend sqlite|postgresql|both]

PostgreSQL comes from BASKETS_BENCH_POSTGRES_URL (an admin URL; a scratch database is created
and dropped), defaulting to the test suite's local server. Validation, audit rows and duplicate
fingerprints are all included in the timings (new rows go through the bulk path).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.db import make_engine, make_session_factory
from baskets.households.models import Household, HouseholdAudit
from baskets.io.imports import run_import
from baskets.migrate import upgrade
from baskets.territory.models import DistributionPoint, Neighbourhood, Territory

FIRST = ["Nadia", "Karim", "Zoé", "Mehdi", "Fatou", "Jean", "Aïcha", "Lucas", "Inès", "Samir"]
LAST = ["Benali", "Martin", "Diallo", "Lefèvre", "Haddad", "N'Diaye", "Garcia", "Ouarab"]
REASONS = ["perte d'emploi", "famille monoparentale", "étudiant", "santé", "logement", "autre"]
HEADER = ("Référence;Nom du contact;Téléphone;Adresse;Adultes;Enfants;Nourrissons;Quartier;"
          "Point de distribution;Catégories exclues;Motif;Valide jusqu'au;"
          "Date de consentement;Dernier contact")


def generate(rows: int, seed: int = 1) -> bytes:
    """A households CSV (semicolon, UTF-8, French dates) of `rows` valid rows."""
    rng = random.Random(seed)
    today = date.today()
    lines = [HEADER]
    for index in range(rows):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = "06 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))
        lines.append(";".join([
            f"BENCH-{index:06d}", name, phone, f"{rng.randrange(1, 200)} rue des Lilas",
            str(rng.randint(1, 3)), str(rng.randint(0, 4)), str(rng.randint(0, 1)),
            f"Quartier {index % 10}", f"Point {index % 20}",
            "produits laitiers" if index % 7 == 0 else "", rng.choice(REASONS),
            (today + timedelta(days=rng.randint(30, 400))).strftime("%d/%m/%Y"),
            (today - timedelta(days=rng.randint(1, 400))).strftime("%d/%m/%Y"),
            (today - timedelta(days=rng.randint(0, 60))).strftime("%d/%m/%Y"),
        ]))
    return ("\r\n".join(lines) + "\r\n").encode()


def _world(session: Session) -> Actor:
    territory = Territory(code=f"B{uuid.uuid4().hex[:8]}", name="Banc d'essai")
    session.add(territory)
    session.flush()
    organisation = Organisation(name="Association du banc", kind=OrganisationKind.association,
                                territory_id=territory.id)
    session.add(organisation)
    session.flush()
    user = User(organisation_id=organisation.id, email=f"{uuid.uuid4().hex}@bench.example",
                full_name="Banc", role=Role.association, password_hash="!")
    session.add(user)
    hoods = []
    for index in range(10):
        hood = Neighbourhood(territory_id=territory.id, name=f"Quartier {index}",
                             qpv_code=f"QB{uuid.uuid4().hex[:8]}", lat=43.3, lon=5.4)
        session.add(hood)
        hoods.append(hood)
    session.flush()
    for index in range(20):
        session.add(DistributionPoint(organisation_id=organisation.id,
                                      neighbourhood_id=hoods[index % 10].id,
                                      name=f"Point {index}", address="1 place", lat=43.3,
                                      lon=5.4))
    session.commit()
    return Actor(user=user, organisation=organisation)


def run(url: str, data: bytes, rows: int, label: str) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(secret_key="bench-secret-key-0123456789-abcdef",
                        import_max_bytes=200_000_000)
    with factory() as session:
        actor = _world(session)
        timings = {}
        for step, dry_run in (("dry run (all new)", True), ("commit (all new)", False),
                              ("re-import (all unchanged)", False)):
            start = time.perf_counter()
            report = run_import(session, actor=actor, kind="households", data=data,
                                settings=settings, dry_run=dry_run)
            if not dry_run:
                session.commit()
            timings[step] = time.perf_counter() - start
            assert report.ok, report.problems[:3]
        stored = session.scalar(select(func.count()).select_from(Household)
                                .where(Household.organisation_id == actor.organisation_id))
        audits = session.scalar(select(func.count()).select_from(HouseholdAudit)
                                .where(HouseholdAudit.organisation_id == actor.organisation_id))
    engine.dispose()
    assert stored == rows, stored
    assert audits == rows, audits
    for step, seconds in timings.items():
        print(f"{label:<11} {step:<26} {rows:>7} rows {seconds:7.1f} s "
              f"{rows / seconds:9,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    data = generate(args.rows)
    print(f"file: {args.rows} rows, {len(data) / 1e6:.1f} MB")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            upgrade(url)
            run(url, data, args.rows, "SQLite")
    if args.backend in ("postgresql", "both"):
        admin_url = os.environ.get("BASKETS_BENCH_POSTGRES_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        name = f"baskets_bench_{os.getpid()}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin_url.rsplit("/", 1)[0] + "/" + name
            upgrade(url)
            run(url, data, args.rows, "PostgreSQL")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
