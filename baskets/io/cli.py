"""`baskets import`, `baskets export` and `baskets gdpr`: the same services as the API.

The command line acts for an organisation as the system: audit rows carry no user (like the
retention job), and the organisation's kind must fit the import.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, OrganisationKind, Role, User
from baskets.common.scope import Actor
from baskets.config import Settings, get_settings
from baskets.errors import DomainError
from baskets.io import export
from baskets.io.columns import Kind
from baskets.io.imports import ImportFailed, run_import
from baskets.weeks.models import Week

import_app = typer.Typer(help="Import a spreadsheet (CSV or XLSX).", no_args_is_help=True)
export_app = typer.Typer(help="Export to CSV or XLSX.", no_args_is_help=True)
gdpr_app = typer.Typer(help="Data-protection duties.", no_args_is_help=True)

OrgOption = Annotated[str, typer.Option("--organisation", help="Organisation id or exact name.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Check and count; write nothing.")]
WeekOption = Annotated[str, typer.Option("--week", help="Week id or its Monday (YYYY-MM-DD).")]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
FormatOption = Annotated[str, typer.Option("--format", help="csv or xlsx.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")]

KIND_OF: dict[Kind | str, OrganisationKind] = {
    "households": OrganisationKind.association,
    "lots": OrganisationKind.food_team,
    "volunteers": OrganisationKind.food_team,
}


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    from baskets.db import make_engine, make_session_factory, unit_of_work

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session, settings
    finally:
        engine.dispose()


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"erreur / error: {message}", err=True)
    return typer.Exit(code=code)


def _organisation(session: Session, text: str) -> Organisation:
    try:
        found = session.get(Organisation, uuid.UUID(text))
        if found is not None:
            return found
    except ValueError:
        pass
    matches = session.scalars(select(Organisation)
                              .where(func.lower(Organisation.name) == text.lower())).all()
    if len(matches) != 1:
        raise _fail(f"organisation « {text} » {'ambiguë' if matches else 'inconnue'}.")
    return matches[0]


def _system_actor(organisation: Organisation, role: Role = Role.admin) -> Actor:
    """An actor for the organisation with no user row: audit entries carry no user id."""
    user = User(organisation_id=organisation.id, email="system", full_name="baskets CLI",
                role=role, password_hash="!", is_active=True)
    return Actor(user=user, organisation=organisation)


def _actor(session: Session, org: str, kind: str) -> Actor:
    organisation = _organisation(session, org)
    if organisation.kind is not KIND_OF[kind]:
        raise _fail(f"{kind} : il faut une organisation de type {KIND_OF[kind].value}.")
    return _system_actor(organisation)


def _week(session: Session, actor: Actor, text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    try:
        monday = date.fromisoformat(text)
    except ValueError:
        raise _fail("--week : identifiant ou date AAAA-MM-JJ attendu.") from None
    teams = [actor.organisation_id]
    if actor.organisation.kind is OrganisationKind.association:
        # An association reads the weeks of its territory's food team(s).
        teams = list(session.scalars(select(Organisation.id).where(
            Organisation.territory_id == actor.territory_id,
            Organisation.kind == OrganisationKind.food_team)))
    week_id = session.scalar(select(Week.id).where(Week.organisation_id.in_(teams),
                                                   Week.starts_on == monday))
    if week_id is None:
        raise _fail(f"aucune semaine ne commence le {monday.isoformat()}.")
    return week_id


def _run_import(kind: Kind, file: Path, org: str, dry_run: bool, week: str | None = None) -> None:
    try:
        with _session() as (session, settings):
            actor = _actor(session, org, kind)
            week_id = _week(session, actor, week) if week else None
            report = run_import(session, actor=actor, kind=kind, data=file.read_bytes(),
                                settings=settings, dry_run=dry_run, week_id=week_id)
    except ImportFailed as exc:
        report = exc.report
    except DomainError as exc:
        raise _fail(exc.message_fr) from None
    body = report.as_dict("fr")
    summary = {key: body[key] for key in ("rows", "created", "updated", "unchanged", "written")}
    typer.echo(json.dumps(summary, ensure_ascii=False))
    for problem in body["problems"]:
        where = f"ligne {problem['row']}" if problem["row"] else "fichier"
        column = f", colonne « {problem['column']} »" if problem["column"] else ""
        typer.echo(f"{where}{column} : {problem['message']}", err=True)
    if body["possible_duplicates"]:
        typer.echo("doublons possibles avec une autre association : "
                   + ", ".join(body["possible_duplicates"]), err=True)
    if body["problems"]:
        raise typer.Exit(code=1)


@import_app.command("households")
def import_households(file: FileArg, organisation: OrgOption, dry_run: DryRunOption = False
                      ) -> None:
    """Households into an association (key: reference)."""
    _run_import("households", file, organisation, dry_run)


@import_app.command("lots")
def import_lots(file: FileArg, organisation: OrgOption, week: WeekOption,
                dry_run: DryRunOption = False) -> None:
    """Supply lots into one week of a food team (key: farmer + product)."""
    _run_import("lots", file, organisation, dry_run, week)


@import_app.command("volunteers")
def import_volunteers(file: FileArg, organisation: OrgOption, dry_run: DryRunOption = False
                      ) -> None:
    """Volunteers into a food team (key: e-mail)."""
    _run_import("volunteers", file, organisation, dry_run)


def _write(table: export.Table, fmt: str, output: Path | None) -> None:
    if fmt not in export.FORMATS:
        raise _fail("--format : csv ou xlsx.")
    data = export.render(table, fmt)
    if output is None:
        if fmt == "xlsx":
            raise _fail("un classeur XLSX s'écrit dans un fichier : ajoutez --output.")
        sys.stdout.write(data.decode("utf-8-sig"))
        return
    output.write_bytes(data)
    typer.echo(f"{len(table.frame)} ligne(s) -> {output}")


@export_app.command("households")
def export_households(organisation: OrgOption, fmt: FormatOption = "csv",
                      output: OutputOption = None) -> None:
    """An association's active households (import columns)."""
    with _session() as (session, _):
        table = export.households_table(session, actor=_actor(session, organisation,
                                                               "households"))
    _write(table, fmt, output)


@export_app.command("lots")
def export_lots(organisation: OrgOption, week: WeekOption, fmt: FormatOption = "csv",
                output: OutputOption = None) -> None:
    """The lots of one week of a food team (import columns)."""
    with _session() as (session, settings):
        actor = _actor(session, organisation, "lots")
        table = export.lots_table(session, actor=actor, week_id=_week(session, actor, week),
                                  tz=ZoneInfo(settings.timezone))
    _write(table, fmt, output)


@export_app.command("volunteers")
def export_volunteers(organisation: OrgOption, fmt: FormatOption = "csv",
                      output: OutputOption = None) -> None:
    """A food team's volunteers (import columns)."""
    with _session() as (session, _):
        table = export.volunteers_table(session, actor=_actor(session, organisation,
                                                              "volunteers"))
    _write(table, fmt, output)


ROLE_OF = {OrganisationKind.association: Role.association,
           OrganisationKind.food_team: Role.coordinator}


@export_app.command("baskets")
def export_baskets(organisation: OrgOption, week: WeekOption, fmt: FormatOption = "csv",
                   output: OutputOption = None,
                   point: Annotated[str | None, typer.Option(
                       "--point", help="Only this distribution point (id).")] = None) -> None:
    """A week's baskets per distribution point: an association's own, or all for a food team."""
    with _session() as (session, _):
        found = _organisation(session, organisation)
        if found.kind not in ROLE_OF:
            raise _fail("baskets : il faut une association ou une équipe alimentaire.")
        actor = _system_actor(found, ROLE_OF[found.kind])
        try:
            point_id = uuid.UUID(point) if point else None
        except ValueError:
            raise _fail("--point : identifiant attendu.") from None
        try:
            table = export.baskets_table(session, actor=actor,
                                         week_id=_week(session, actor, week), point_id=point_id)
        except DomainError as exc:
            raise _fail(exc.message_fr) from None
    _write(table, fmt, output)


@gdpr_app.command("retention")
def retention(dry_run: DryRunOption = False,
              months: Annotated[int | None, typer.Option(
                  "--months", min=1, help="Default: the retention_months setting.")] = None
              ) -> None:
    """Erase households with no contact for BASKETS_RETENTION_MONTHS; print the counts.

    Meant to run daily (cron or Celery beat, see the README); it prints and logs counts per
    organisation only, never a household's data.
    """
    from baskets.io.tasks import retention as run_retention

    done = run_retention(months=months, dry_run=dry_run)
    typer.echo(json.dumps(done, ensure_ascii=False, indent=1))
