"""Imports and exports of spreadsheets, duplicate households, and data-protection rights."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from sqlalchemy.orm import Session

from baskets.accounts.ratelimit import limit_duplicate_lookups
from baskets.api.deps import ActorDep, LocaleDep, PageDep, SessionDep, SettingsDep
from baskets.common.pagination import Page
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.errors import InvalidInput, PayloadTooLarge
from baskets.households.schemas import HouseholdOut
from baskets.households.service import to_out
from baskets.io import duplicates, export, gdpr, templates
from baskets.io.columns import KINDS, Kind
from baskets.io.imports import ImportFailed, run_import
from baskets.io.schemas import (
    DuplicateOut,
    DuplicatePairOut,
    HouseholdExportOut,
    ImportReportOut,
)
from baskets.reports import service as reports
from baskets.reports.document import report_workbook
from baskets.reports.schemas import ReportOut

router = APIRouter(tags=["imports and exports"])

FormatQuery = Annotated[export.Format, Query(alias="format", description="csv or xlsx")]
DryRun = Annotated[bool, Query(description="Check and count only; write nothing.")]
Upload = Annotated[UploadFile, File(description="CSV (comma or semicolon) or XLSX file.")]


def _file(content: bytes, name: str, fmt: export.Format) -> Response:
    return Response(content=content, media_type=export.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _read_upload(upload: UploadFile, settings: Settings) -> bytes:
    data = upload.file.read(settings.import_max_bytes + 1)
    if len(data) > settings.import_max_bytes:
        raise PayloadTooLarge(
            f"Fichier trop volumineux (au plus {settings.import_max_bytes // 1_000_000} Mo). "
            "Rien n'a été enregistré.",
            f"File too large (at most {settings.import_max_bytes // 1_000_000} MB). "
            "Nothing was saved.",
        )
    return data


def _import(session: Session, actor: Actor, settings: Settings, locale: str, kind: Kind,
            upload: UploadFile, dry_run: bool, week_id: uuid.UUID | None = None
            ) -> dict[str, Any]:
    try:
        report = run_import(session, actor=actor, kind=kind, data=_read_upload(upload, settings),
                            settings=settings, dry_run=dry_run, week_id=week_id)
    except ImportFailed as exc:
        # Re-raised with the problems in the asked language; the session rolls back.
        raise InvalidInput(exc.message_fr, exc.message_en,
                           [p.render(locale) for p in exc.report.problems]) from None
    return report.as_dict(locale)


@router.post("/imports/households", response_model=ImportReportOut)
def import_households(request: Request, file: Upload, actor: ActorDep, session: SessionDep,
                      settings: SettingsDep, locale: LocaleDep, dry_run: DryRun = False) -> Any:
    """Households into the association (key: reference). Every problem is listed by row."""
    limit_duplicate_lookups(request, actor.user.id)
    return _import(session, actor, settings, locale, "households", file, dry_run)


@router.post("/imports/lots", response_model=ImportReportOut)
def import_lots(file: Upload, week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                settings: SettingsDep, locale: LocaleDep, dry_run: DryRun = False) -> Any:
    """Supply lots into one of the food team's weeks (key: farmer + product)."""
    return _import(session, actor, settings, locale, "lots", file, dry_run, week_id)


@router.post("/imports/volunteers", response_model=ImportReportOut)
def import_volunteers(file: Upload, actor: ActorDep, session: SessionDep,
                      settings: SettingsDep, locale: LocaleDep, dry_run: DryRun = False) -> Any:
    """Volunteers into the food team (key: e-mail)."""
    return _import(session, actor, settings, locale, "volunteers", file, dry_run)


def _template_route(kind: Kind) -> None:
    def template(actor: ActorDep, fmt: FormatQuery = "csv") -> Response:
        return _file(templates.template_bytes(kind, fmt), templates.NAMES[kind], fmt)

    template.__doc__ = f"Template of the {kind} import, with the French headers."
    router.add_api_route(f"/imports/{kind}/template", template, methods=["GET"],
                         name=f"template_{kind}", response_class=Response)


for _kind in KINDS:
    _template_route(_kind)


@router.get("/exports/households", response_class=Response)
def export_households(actor: ActorDep, session: SessionDep, fmt: FormatQuery = "csv"
                      ) -> Response:
    """The association's active households (same columns as the import)."""
    table = export.households_table(session, actor=actor)
    return _file(export.render(table, fmt), table.name, fmt)


@router.get("/exports/volunteers", response_class=Response)
def export_volunteers(actor: ActorDep, session: SessionDep, fmt: FormatQuery = "csv"
                      ) -> Response:
    """The food team's volunteers (same columns as the import)."""
    table = export.volunteers_table(session, actor=actor)
    return _file(export.render(table, fmt), table.name, fmt)


@router.get("/weeks/{week_id}/exports/lots", response_class=Response)
def export_lots(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                settings: SettingsDep, fmt: FormatQuery = "csv") -> Response:
    """The lots of one week (same columns as the import)."""
    table = export.lots_table(session, actor=actor, week_id=week_id,
                              tz=ZoneInfo(settings.timezone))
    return _file(export.render(table, fmt), table.name, fmt)


@router.get("/weeks/{week_id}/exports/baskets", response_class=Response)
def export_baskets(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                   fmt: FormatQuery = "csv", point_id: uuid.UUID | None = None) -> Response:
    """The week's baskets per distribution point (an association: its own households)."""
    table = export.baskets_table(session, actor=actor, week_id=week_id, point_id=point_id)
    return _file(export.render(table, fmt), table.name, fmt)


@router.get("/weeks/{week_id}/report", response_model=ReportOut)
def weekly_report(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                  locale: LocaleDep) -> Any:
    """The weekly report: kilos per neighbourhood and product, households, coverage, money."""
    return reports.weekly_report(session, actor=actor, week_id=week_id).as_dict(locale)


@router.get("/weeks/{week_id}/report/document", response_class=Response)
def weekly_report_document(week_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                           locale: LocaleDep) -> Response:
    """The weekly report as an XLSX workbook: a summary, then one sheet per section."""
    report = reports.weekly_report(session, actor=actor, week_id=week_id)
    name = f"rapport-{report.week.starts_on.isoformat()}"
    return _file(report_workbook(report, locale), name, "xlsx")


@router.get("/households/duplicates", response_model=Page[DuplicateOut])
def my_duplicates(request: Request, actor: ActorDep, session: SessionDep,
                  settings: SettingsDep, page: PageDep) -> dict[str, Any]:
    """My households that another association may also follow: references only (each lookup
    rate-limited and audited)."""
    limit_duplicate_lookups(request, actor.user.id)
    found = duplicates.my_duplicates(session, actor=actor, secret=settings.secret_key)
    items = [DuplicateOut.model_validate(h) for h in found[page.offset:page.offset + page.limit]]
    return {"items": items, "total": len(found), "limit": page.limit, "offset": page.offset}


@router.get("/coordination/households/duplicates", response_model=list[DuplicatePairOut])
def duplicate_pairs(actor: ActorDep, session: SessionDep, settings: SettingsDep) -> Any:
    """Per pair of associations of the territory, how many households they may share."""
    return [{"first": first, "second": second, "households": count}
            for first, second, count in duplicates.pair_counts(
                session, actor=actor, secret=settings.secret_key)]


@router.get("/households/{household_id}/export", response_model=HouseholdExportOut)
def export_household(household_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    """Everything held about one household, machine-readable (access and portability)."""
    return gdpr.export_household(session, actor=actor, household_id=household_id)


@router.post("/households/{household_id}/erase", response_model=HouseholdOut)
def erase_household(household_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> Any:
    """Erase the household's personal fields; sizes stay for the aggregates."""
    household = gdpr.erase_household(session, actor=actor, household_id=household_id)
    return HouseholdOut.model_validate(to_out(household))
