"""Spreadsheet uploads in the site: households (associations), supply lots and volunteers
(food team).

Sending a file first checks it (a dry run): the page lists every problem by row, column and
message, or what would be created and updated, with a button to import it for real. The
checked file rides along in the page (base64, hidden) up to PREVIEW_KEEP_BYTES so the commit
need not choose it again; a bigger one is chosen again. The commit runs the same service
(all or nothing) and checks everything again.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData, UploadFile

from baskets.accounts.models import Role
from baskets.accounts.ratelimit import limit_duplicate_lookups
from baskets.api.deps import SessionDep
from baskets.common.scope import Actor
from baskets.config import Settings
from baskets.errors import PayloadTooLarge
from baskets.io import duplicates, templates
from baskets.io.columns import COLUMNS, Kind
from baskets.io.export import FORMATS, MEDIA_TYPES, Format
from baskets.io.imports import ImportFailed, ImportReport, run_import
from baskets.web.core import (
    CSRF_FIELD,
    FormExpired,
    PageActorDep,
    PageRoute,
    csrf_token,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.forms import text
from baskets.weeks import service as weeks

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PREVIEW_KEEP_BYTES = 2_000_000
KIND_NAMES = {"households": "foyers", "lots": "lots", "volunteers": "bénévoles"}


async def checked_upload(request: Request) -> FormData:
    """The posted multipart form (file parts up to the import limit), once its CSRF token
    matches this browser's cookie."""
    settings: Settings = request.app.state.settings
    # The hidden copy of a checked file is a text part: allow it up to the import limit.
    form = await request.form(max_part_size=2 * settings.import_max_bytes)
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise FormExpired(
            "Le formulaire a expiré ; rechargez la page et recommencez.",
            "The form has expired; reload the page and try again.",
        )
    return form


UploadDep = Annotated[FormData, Depends(checked_upload)]


def _too_large(settings: Settings) -> PayloadTooLarge:
    limit = settings.import_max_bytes // 1_000_000
    return PayloadTooLarge(
        f"Fichier trop volumineux (au plus {limit} Mo). Rien n'a été enregistré.",
        f"File too large (at most {limit} MB). Nothing was saved.")


async def _file_bytes(form: FormData, settings: Settings) -> tuple[bytes, str]:
    """The chosen file, else the checked copy the preview kept; ("", "") when neither."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(settings.import_max_bytes + 1)
        if len(data) > settings.import_max_bytes:
            raise _too_large(settings)
        return data, upload.filename
    kept = text(form, "content")
    if kept:
        try:
            data = base64.b64decode(kept, validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if len(data) > settings.import_max_bytes:
            raise _too_large(settings)
        return data, text(form, "filename")[:200]
    return b"", ""


def _context(kind: Kind, action: str, template: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "action": action, "template": template, "columns": COLUMNS[kind],
            "report": None, "content": "", "filename": "", "too_big_to_keep": False,
            "no_file": False, **extra}


async def _handle(request: Request, session: Any, actor: Actor, form: FormData, kind: Kind,
                  context: dict[str, Any], back: str, week_id: uuid.UUID | None = None
                  ) -> Response:
    settings: Settings = request.app.state.settings
    t = translator_for(request)
    data, name = await _file_bytes(form, settings)
    if not data and not name:
        return render(request, "imports/upload.html", {**context, "no_file": True},
                      status_code=422)
    commit = text(form, "action") == "commit"
    if kind == "households":
        limit_duplicate_lookups(request, actor.user.id)
    try:
        report: ImportReport = run_import(session, actor=actor, kind=kind, data=data,
                                          settings=settings, dry_run=not commit,
                                          week_id=week_id)
    except ImportFailed as exc:
        session.rollback()  # all or nothing: a refused commit writes nothing
        report = exc.report
    if commit and report.ok:
        response = redirect(back)
        flash(request, response, t.gettext(
            "Import terminé : %(created)s créé(s), %(updated)s mis à jour, %(unchanged)s "
            "inchangé(s).", created=report.created, updated=report.updated,
            unchanged=report.unchanged))
        return response
    session.rollback()
    if report.duplicates_checked:
        # The preview writes nothing, except the audit of its duplicate lookup.
        duplicates.record_lookup(session, actor=actor, kind="import",
                                 checked=report.duplicates_checked,
                                 flagged=len(report.possible_duplicates))
    keep = report.ok and len(data) <= PREVIEW_KEEP_BYTES
    return render(request, "imports/upload.html", {
        **context, "report": report.as_dict(t.locale), "filename": name,
        "content": base64.b64encode(data).decode() if keep else "",
        "too_big_to_keep": report.ok and not keep,
    }, status_code=200 if report.ok else 422)


def _template(kind: Kind, fmt: str) -> Response:
    chosen: Format = "csv" if fmt == "csv" else "xlsx"
    if fmt not in FORMATS:
        chosen = "xlsx"
    name = f"{templates.NAMES[kind]}.{chosen}"
    return Response(templates.template_bytes(kind, chosen), media_type=MEDIA_TYPES[chosen],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------- imports of the actor's organisation: page, upload, template


def _organisation_import(kind: Kind, path: str, role: Role, back: str) -> None:
    """Add the upload page, its check-or-import POST and its template download for an import
    into the actor's own organisation (households for associations, volunteers for the food
    team)."""

    def context() -> dict[str, Any]:
        return _context(kind, path, f"{path}/template", back=back)

    def page(request: Request, actor: PageActorDep) -> Response:
        actor.require(role)
        return render(request, "imports/upload.html", context())

    async def upload(request: Request, form: UploadDep, actor: PageActorDep,
                     session: SessionDep) -> Response:
        actor.require(role)
        return await _handle(request, session, actor, form, kind, context(), back)

    def template(actor: PageActorDep, format: str = "xlsx") -> Response:  # noqa: A002
        actor.require(role)
        return _template(kind, format)

    router.add_api_route(path, page, methods=["GET"], name=f"{kind}_import_page")
    router.add_api_route(path, upload, methods=["POST"], name=f"{kind}_import")
    router.add_api_route(f"{path}/template", template, methods=["GET"],
                         name=f"{kind}_template")


_organisation_import("households", "/households/import", Role.association, "/households")
_organisation_import("volunteers", "/volunteers/import", Role.coordinator, "/")


# ---------------------------------------------------------------- food team: supply lots


def _lots_context(week: Any) -> dict[str, Any]:
    return _context("lots", f"/weeks/{week.id}/import", "/lots/import/template", week=week,
                    back=f"/weeks/{week.id}/supply")


@router.get("/weeks/{week_id}/import")
def lots_import_page(request: Request, week_id: uuid.UUID, actor: PageActorDep,
                     session: SessionDep) -> Response:
    """Send a supply lots file for one week."""
    week = weeks.get_week(session, actor=actor, week_id=week_id)
    actor.require(Role.coordinator)
    return render(request, "imports/upload.html", _lots_context(week))


@router.post("/weeks/{week_id}/import")
async def lots_import(request: Request, week_id: uuid.UUID, form: UploadDep,
                      actor: PageActorDep, session: SessionDep) -> Response:
    """Check (preview) or import (commit) a supply lots file into the week."""
    week = weeks.get_week(session, actor=actor, week_id=week_id)
    actor.require(Role.coordinator)
    return await _handle(request, session, actor, form, "lots", _lots_context(week),
                         f"/weeks/{week.id}/supply", week_id=week.id)


@router.get("/lots/import/template")
def lots_template(actor: PageActorDep, format: str = "xlsx") -> Response:  # noqa: A002
    """The supply lots template (XLSX with a help sheet, or CSV)."""
    actor.require(Role.coordinator)
    return _template("lots", format)
