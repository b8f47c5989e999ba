"""Spreadsheet imports of households, supply lots and volunteers.

One pass reads and checks every row and collects EVERY problem (row, column, French and
English message); only a file without problems is written, all of it or nothing. Each kind has
a stable external key (household reference; farmer + product in the week; volunteer e-mail),
so importing the same file again finds every row unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role, User
from baskets.api.errors import _english, _french
from baskets.common.scope import Actor, owned
from baskets.config import Settings
from baskets.db import utcnow
from baskets.errors import DomainError, InvalidInput
from baskets.households import service as households
from baskets.households.models import Household, HouseholdAudit
from baskets.households.schemas import HouseholdIn, HouseholdPatch
from baskets.io import duplicates
from baskets.io.columns import (
    CATEGORY_LABELS,
    COLUMNS,
    KINDS,
    REFERRAL_LABELS,
    VEHICLE_LABELS,
    CellError,
    Column,
    Kind,
    choice,
    header_index,
    normalise,
    read_availability,
    read_bool,
    read_date,
    read_datetime,
    read_int,
    read_list,
    read_number,
    read_skills,
)
from baskets.io.reading import Sheet, UnreadableFile, read_sheet
from baskets.io.schemas import VolunteerRow
from baskets.supply import service as supply
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.supply.schemas import LotIn, LotPatch
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.volunteers import service as volunteers
from baskets.volunteers.models import Volunteer

# Above this many new households, rows are inserted in bulk (same checks, same audit rows)
# rather than one by one through the household service.
BULK_THRESHOLD = 200
CHUNK = 1000
# Imported volunteers get an account that cannot log in until a password is set.
UNUSABLE_PASSWORD = "!imported-no-password"
FORMULA_PREFIXES = ("=",)
KIND_NAMES = {"households": "foyers", "lots": "lots", "volunteers": "bénévoles"}

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One problem of an import: where (spreadsheet row, column header) and what."""

    row: int | None
    column: str | None
    field: str | None
    message_fr: str
    message_en: str

    def render(self, locale: str) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field,
                "message": self.message_en if locale == "en" else self.message_fr}


@dataclass
class ImportReport:
    """What an import did, or would do in a dry run, and every problem found."""

    kind: Kind
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    # References of the importer's own rows that may duplicate another association's household.
    possible_duplicates: list[str] = field(default_factory=list)
    # How many rows were looked up for duplicates (0: no lookup was made).
    duplicates_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self, locale: str) -> dict[str, Any]:
        return {"kind": self.kind, "dry_run": self.dry_run, "rows": self.rows,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "written": not self.dry_run and self.ok,
                "problems": [problem.render(locale) for problem in self.problems],
                "possible_duplicates": self.possible_duplicates}


class ImportFailed(InvalidInput):
    """A commit refused because of problems; nothing was written (the caller rolls back)."""

    def __init__(self, report: ImportReport) -> None:
        count = len(report.problems)
        super().__init__(
            f"{count} problème(s) dans le fichier ; rien n'a été enregistré.",
            f"{count} problem(s) in the file; nothing was saved.",
            [problem.render("fr") for problem in report.problems],
        )
        self.report = report


# ---- rows: headers mapped, cells read -----------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # field -> value read from a non-empty cell
    raw: dict[str, str]  # field -> the cell's text (for references)
    bad: set[str] = field(default_factory=set)  # fields whose cell could not be read


@dataclass
class Context:
    kind: Kind
    sheet: Sheet
    columns: dict[str, Column]  # field -> column present in the file
    report: ImportReport
    tz: ZoneInfo

    def problem(self, row: int | None, field_name: str | None, fr: str, en: str) -> None:
        column = self.columns.get(field_name or "")
        header = column.header if column else (field_name if row == 1 else None)
        self.report.problems.append(Problem(row, header, field_name, fr, en))


def _map_header(kind: Kind, sheet: Sheet, report: ImportReport
                ) -> tuple[dict[str, Column], dict[int, Column]]:
    known = header_index(kind)
    by_field: dict[str, Column] = {}
    by_index: dict[int, Column] = {}
    for index, text in enumerate(sheet.header):
        if not text:
            if any(index < len(row) and row[index] for row in sheet.rows):
                report.problems.append(Problem(1, None, None, f"Colonne {index + 1} sans en-tête.",
                                               f"Column {index + 1} has no header."))
            continue
        column = known.get(normalise(text))
        if column is None:
            report.problems.append(Problem(1, text, None, f"Colonne inconnue « {text} ».",
                                           f"Unknown column '{text}'."))
            continue
        if column.field in by_field:
            report.problems.append(Problem(
                1, text, column.field,
                f"La colonne « {column.header} » apparaît deux fois.",
                f"Column '{column.header_en}' appears twice."))
            continue
        by_field[column.field] = column
        by_index[index] = column
    for column in COLUMNS[kind]:
        if column.required and column.field not in by_field:
            report.problems.append(Problem(
                1, column.header, column.field,
                f"Colonne obligatoire « {column.header} » absente.",
                f"Required column '{column.header_en}' is missing."))
    if report.problems:
        expected = ", ".join(c.header for c in COLUMNS[kind])
        expected_en = ", ".join(c.header_en for c in COLUMNS[kind])
        hint_fr, hint_en = "", ""
        for other in KINDS:
            known_there = header_index(other)
            if other != kind and sum(normalise(t) in known_there for t in sheet.header if t) > \
                    len(by_field):
                hint_fr = f" Ce fichier ressemble à un import « {KIND_NAMES[other]} »."
                hint_en = f" This file looks like a {other} import."
        report.problems.append(Problem(
            1, None, None,
            f"Colonnes attendues : {expected} (modèle téléchargeable).{hint_fr}",
            f"Expected columns: {expected_en} (template available).{hint_en}"))
    return by_field, by_index


_CHOICES: dict[str, Callable[[str], str]] = {
    "referral": choice(REFERRAL_LABELS, "Motif", "referral reason"),
    "vehicle": choice(VEHICLE_LABELS, "Véhicule", "vehicle"),
}
_CATEGORY = choice(CATEGORY_LABELS, "Catégorie", "category")


def _read_cell(column: Column, text: str, tz: ZoneInfo) -> Any:
    reader = column.reader
    if reader in ("text", "ref"):
        return text
    if reader == "int":
        return read_int(text)
    if reader == "number":
        return read_number(text)
    if reader == "bool":
        return read_bool(text)
    if reader == "date":
        return read_date(text)
    if reader == "datetime":
        return read_datetime(text, tz)
    if reader == "list":
        return read_list(text)
    if reader == "categories":
        return [_CATEGORY(item) for item in read_list(text)]
    if reader == "skills":
        return read_skills(text)
    if reader == "availability":
        return read_availability(text)
    return _CHOICES[reader](text)


def _unescape(text: str) -> str:
    # Our exports write '+33..., '-...', '@... so spreadsheets do not take them as formulas.
    if len(text) > 1 and text[0] == "'" and text[1] in "+-@":
        return text[1:]
    return text


def _rows(ctx: Context, by_index: dict[int, Column]) -> list[Row]:
    rows = []
    for cells, number in zip(ctx.sheet.rows, ctx.sheet.numbers, strict=True):
        row = Row(number=number, values={}, raw={})
        for index, column in by_index.items():
            text = cells[index] if index < len(cells) else ""
            if (number, index) in ctx.sheet.formulas or text.startswith(FORMULA_PREFIXES):
                ctx.problem(number, column.field, "Les formules ne sont pas acceptées ; "
                            "saisissez la valeur elle-même.",
                            "Formulas are not accepted; enter the value itself.")
                row.bad.add(column.field)
                continue
            text = _unescape(text)
            if not text:
                continue
            row.raw[column.field] = text
            try:
                row.values[column.field] = _read_cell(column, text, ctx.tz)
            except CellError as exc:
                ctx.problem(number, column.field, exc.message_fr, exc.message_en)
                row.bad.add(column.field)
        rows.append(row)
    return rows


def _validate(ctx: Context, row: Row, model: type[T], payload: dict[str, Any]) -> T | None:
    """Validate with the domain's pydantic schema; each error lands on its column."""
    try:
        return model.model_validate(payload)  # type: ignore[attr-defined, no-any-return]
    except ValidationError as exc:
        for error in exc.errors():
            loc = error.get("loc") or ()
            name = str(loc[0]) if loc else None
            if name in row.bad:
                continue  # already reported when the cell was read
            detail = dict(error)
            ctx.problem(row.number, name, _french(detail), _english(detail))
        return None


def _domain_problem(ctx: Context, row: int, exc: DomainError,
                    field_map: Callable[[str], str] | None = None) -> None:
    details = exc.details if isinstance(exc.details, list) and exc.details else None
    if not details:
        ctx.problem(row, None, exc.message_fr, exc.message_en)
        return
    for detail in details:
        name = str(detail.get("field", "")).split(".")[0] or None
        if name and field_map:
            name = field_map(name)
        ctx.problem(row, name, str(detail.get("message", exc.message_fr)), exc.message_en)


def _resolver(entries: Iterable[tuple[str, T]]) -> Callable[[str], T | None | bool]:
    """Look up by normalised key; False when two entries share the key (ambiguous)."""
    table: dict[str, T | None] = {}
    ambiguous: set[str] = set()
    for key, value in entries:
        norm = normalise(key)
        if norm in table and table[norm] != value:
            ambiguous.add(norm)
        table[norm] = value

    def resolve(text: str) -> T | None | bool:
        norm = normalise(text)
        if norm in ambiguous:
            return False
        return table.get(norm)

    return resolve


def _chunks(items: list[T], size: int = CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _present(ctx: Context, name: str) -> bool:
    return name in ctx.columns


# ---- households ---------------------------------------------------------------------------

_PATCHABLE = tuple(HouseholdPatch.model_fields)
_OPTIONAL_DEFAULTS: dict[str, Any] = {"contact_name": None, "phone": None, "address": None,
                                      "children": 0, "infants": 0, "excluded_products": [],
                                      "excluded_categories": []}


def _stored(value: Any) -> Any:
    if isinstance(value, list):
        return [str(item.value if hasattr(item, "value") else item) for item in value]
    return value


def _households(session: Session, ctx: Context, actor: Actor, rows: list[Row], *,
                settings: Settings, today: date, dry_run: bool, bulk_threshold: int) -> None:
    actor.require(Role.association)
    neighbourhoods = session.execute(
        select(Neighbourhood.name, Neighbourhood.qpv_code, Neighbourhood.id)
        .where(Neighbourhood.territory_id == actor.territory_id)).all()
    find_neighbourhood = _resolver([(name, nid) for name, _, nid in neighbourhoods]
                                   + [(code, nid) for _, code, nid in neighbourhoods])
    find_point = _resolver((name, pid) for name, pid in session.execute(
        select(DistributionPoint.name, DistributionPoint.id)
        .where(DistributionPoint.organisation_id == actor.organisation_id)).all())
    products = session.execute(select(Product.name, Product.id)).all()
    find_product = _resolver([(name, pid) for name, pid in products]
                             + [(str(pid), pid) for _, pid in products])
    references = [str(row.values["reference"]) for row in rows if "reference" in row.values]
    existing: dict[str, Household] = {}
    if len(references) > CHUNK:
        # A big file: one pass over the association's households beats many IN lists.
        wanted = set(references)
        for household in session.scalars(owned(Household, actor)):
            if household.reference in wanted:
                existing[household.reference] = household
    else:
        for household in session.scalars(owned(Household, actor)
                                         .where(Household.reference.in_(references))):
            existing[household.reference] = household

    seen: dict[str, int] = {}
    creates: list[tuple[Row, HouseholdIn]] = []
    updates: list[tuple[Row, Household, HouseholdPatch]] = []
    digests: dict[str, str] = {}
    for row in rows:
        payload = dict(row.values)
        for name, find, what in (("neighbourhood_id", find_neighbourhood, "Quartier"),
                                 ("distribution_point_id", find_point,
                                  "Point de distribution")):
            if name in row.raw:
                found = find(row.raw[name])
                if found is None or found is False:
                    row.bad.add(name)
                    payload.pop(name, None)
                    ctx.problem(row.number, name,
                                f"{what} « {row.raw[name]} » "
                                f"{'ambigu' if found is False else 'inconnu'}"
                                + (" dans votre territoire." if name == "neighbourhood_id"
                                   else " dans votre association."),
                                f"{'Ambiguous' if found is False else 'Unknown'} "
                                f"{'neighbourhood' if name == 'neighbourhood_id' else 'point'}"
                                f" '{row.raw[name]}'.")
                else:
                    payload[name] = found
        if "excluded_products" in payload:
            ids = []
            for item in payload["excluded_products"]:
                found = find_product(item)
                if found is None or found is False:
                    row.bad.add("excluded_products")
                    ctx.problem(row.number, "excluded_products",
                                f"Produit « {item} » inconnu du catalogue.",
                                f"Product '{item}' is not in the catalogue.")
                else:
                    ids.append(found)
            payload["excluded_products"] = ids
        for name in ("consent_date", "last_contact_date"):
            value = payload.get(name)
            if isinstance(value, date) and value > today:
                row.bad.add(name)
                ctx.problem(row.number, name, "Cette date ne peut pas être future.",
                            "This date cannot be in the future.")
        reference = payload.get("reference")
        if isinstance(reference, str):
            if reference in seen:
                ctx.problem(row.number, "reference",
                            f"Référence déjà présente à la ligne {seen[reference]}.",
                            f"Reference already on row {seen[reference]}.")
                continue
            seen[reference] = row.number
        data = _validate(ctx, row, HouseholdIn, payload)
        if data is None or row.bad:
            continue
        digest = duplicates.fingerprint(settings.secret_key, data.contact_name, data.phone)
        if digest:
            digests[data.reference] = digest
        current = existing.get(data.reference)
        if current is None:
            creates.append((row, data))
            continue
        household = current
        changes = {}
        for name in _PATCHABLE:
            if not _present(ctx, name):
                continue  # a column absent from the file leaves the field as it is
            new = getattr(data, name) if name in data.model_fields_set else \
                _OPTIONAL_DEFAULTS.get(name)
            if _stored(new) != _stored(getattr(household, name)):
                changes[name] = new
        if not changes:
            ctx.report.unchanged += 1
        elif household.archived_at is not None:
            ctx.problem(row.number, "reference", "Ce foyer est archivé : il ne peut plus changer.",
                        "This household is archived: it can no longer change.")
        else:
            updates.append((row, household, HouseholdPatch.model_validate(changes)))
    ctx.report.created = len(creates)
    ctx.report.updated = len(updates)
    # Only a clean file is looked up (and the lookup audited): a report of problems says
    # nothing about other associations' households.
    if digests and not ctx.report.problems:
        elsewhere = duplicates.digests_elsewhere(session, actor=actor,
                                                 secret=settings.secret_key,
                                                 digests=digests.values())
        ctx.report.duplicates_checked = len(digests)
        ctx.report.possible_duplicates = sorted(ref for ref, d in digests.items()
                                                if d in elsewhere)
    if dry_run or ctx.report.problems:
        return
    for row, household, patch in updates:
        try:
            households.update_household(session, actor=actor, household_id=household.id,
                                        changes=patch, today=today)
        except DomainError as exc:
            _domain_problem(ctx, row.number, exc)
    if len(creates) <= bulk_threshold:
        for row, data in creates:
            try:
                households.create_household(session, actor=actor, data=data, today=today)
            except DomainError as exc:
                _domain_problem(ctx, row.number, exc)
    else:
        _bulk_create_households(session, actor, [data for _, data in creates])
    if not ctx.report.problems:
        duplicates.refresh(session, secret=settings.secret_key,
                           organisation_ids=[actor.organisation_id])


def _bulk_create_households(session: Session, actor: Actor, items: list[HouseholdIn]) -> None:
    """Insert many households and their 'create' audit rows in a few statements.

    The values and audit fields are exactly those `households.create_household` writes; the
    checks it makes were all made, row by row, before this point.
    """
    now = utcnow()
    rows: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for data in items:
        household_id = uuid.uuid4()
        values = data.model_dump(mode="json")
        values.update(neighbourhood_id=data.neighbourhood_id,
                      distribution_point_id=data.distribution_point_id,
                      valid_until=data.valid_until, consent_date=data.consent_date,
                      last_contact_date=data.last_contact_date,
                      referral_reason=data.referral_reason)
        rows.append({"id": household_id, "organisation_id": actor.organisation_id,
                     "created_at": now, "updated_at": now, "archived_at": None, **values})
        audits.append({"id": uuid.uuid4(), "created_at": now,
                       "organisation_id": actor.organisation_id, "household_id": household_id,
                       "user_id": actor.user.id, "action": "create",
                       "fields": sorted(data.model_fields_set | {"reference"})})
    # Core inserts (executemany), not ORM bulk: every column is given, nothing to fetch back.
    connection = session.connection()
    for table, values_list in ((Household.__table__, rows),
                               (HouseholdAudit.__table__, audits)):
        for chunk in _chunks(values_list):
            connection.execute(insert(table), chunk)  # type: ignore[arg-type]


# ---- supply lots --------------------------------------------------------------------------

_LOT_FIELDS = ("quantity_kg", "units", "harvest_date", "pickup_start", "pickup_end",
               "price_per_kg")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        if a.tzinfo is None or b.tzinfo is None:
            # SQLite keeps the wall clock it was given and drops the offset: compare wall
            # clocks, or instants in UTC, whichever the stored side can mean.
            def wall(value: datetime) -> datetime:
                return value.replace(tzinfo=None)

            def utc(value: datetime) -> datetime:
                return value if value.tzinfo is None else \
                    value.astimezone(UTC).replace(tzinfo=None)

            return wall(a) == wall(b) or utc(a) == utc(b)
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return bool(a == b)


def _lots(session: Session, ctx: Context, actor: Actor, rows: list[Row], *,
          week_id: uuid.UUID | None, dry_run: bool) -> None:
    actor.require(Role.coordinator)
    if week_id is None:
        raise InvalidInput("Indiquez la semaine des lots (week_id).",
                           "Give the week of the lots (week_id).",
                           [{"field": "week_id", "message": "Champ obligatoire."}])
    week = supply.editable_week(session, actor, week_id)
    farmers = session.execute(select(Farmer.name, Farmer.siret, Farmer.id)
                              .where(Farmer.organisation_id == actor.organisation_id)).all()
    find_farmer = _resolver([(name, fid) for name, _, fid in farmers]
                            + [(siret, fid) for _, siret, fid in farmers])
    products = {product.id: product for product in session.scalars(select(Product))}
    find_product = _resolver([(p.name, p.id) for p in products.values()]
                             + [(str(p.id), p.id) for p in products.values()])
    existing: dict[tuple[uuid.UUID, uuid.UUID], list[SupplyLot]] = {}
    for lot in session.scalars(owned(SupplyLot, actor).where(SupplyLot.week_id == week.id)):
        existing.setdefault((lot.farmer_id, lot.product_id), []).append(lot)
    seen: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    creates: list[tuple[Row, LotIn]] = []
    updates: list[tuple[Row, SupplyLot, LotPatch]] = []
    for row in rows:
        payload = dict(row.values)
        for name, find, fr, en in (("farmer_id", find_farmer, "Producteur", "farmer"),
                                   ("product_id", find_product, "Produit", "product")):
            if name in row.raw:
                found = find(row.raw[name])
                if found is None or found is False:
                    row.bad.add(name)
                    payload.pop(name, None)
                    state = "ambigu" if found is False else "inconnu"
                    ctx.problem(row.number, name, f"{fr} « {row.raw[name]} » {state}.",
                                f"{'Ambiguous' if found is False else 'Unknown'} {en} "
                                f"'{row.raw[name]}'.")
                else:
                    payload[name] = found
        data = _validate(ctx, row, LotIn, payload)
        if data is None or row.bad:
            continue
        key = (data.farmer_id, data.product_id)
        if key in seen:
            ctx.problem(row.number, "product_id",
                        f"Même producteur et même produit qu'à la ligne {seen[key]}.",
                        f"Same farmer and product as row {seen[key]}.")
            continue
        seen[key] = row.number
        product = products[data.product_id]
        units = data.units
        if units is None and product.unit_kg is not None:
            units = max(1, round(data.quantity_kg / product.unit_kg))
        matches = existing.get(key, [])
        if len(matches) > 1:
            ctx.problem(row.number, "product_id",
                        "Plusieurs lots de ce producteur pour ce produit existent déjà cette "
                        "semaine ; corrigez-les dans l'application.",
                        "Several lots of this farmer for this product already exist this week; "
                        "fix them in the application.")
            continue
        if not matches:
            creates.append((row, data))
            continue
        lot = matches[0]
        wanted = {"quantity_kg": data.quantity_kg, "units": units,
                  "harvest_date": data.harvest_date, "pickup_start": data.pickup_start,
                  "pickup_end": data.pickup_end, "price_per_kg": data.price_per_kg}
        changes = {name: value for name, value in wanted.items()
                   if not _same(value, getattr(lot, name))}
        if changes:
            updates.append((row, lot, LotPatch.model_validate(changes)))
        else:
            ctx.report.unchanged += 1
    ctx.report.created = len(creates)
    ctx.report.updated = len(updates)
    if dry_run or ctx.report.problems:
        return
    for row, lot, patch in updates:
        try:
            supply.update_lot(session, actor=actor, lot_id=lot.id, changes=patch)
        except DomainError as exc:
            _domain_problem(ctx, row.number, exc)
    for row, data in creates:
        try:
            supply.create_lot(session, actor=actor, week_id=week.id, data=data)
        except DomainError as exc:
            _domain_problem(ctx, row.number, exc)


# ---- volunteers ---------------------------------------------------------------------------

_PROFILE_FIELDS = ("home_area", "lat", "lon", "vehicle_kind", "capacity_kg", "refrigerated",
                   "hours_per_month", "max_rounds_per_month", "skills", "availability",
                   "remote_ok", "max_km")


def _volunteers(session: Session, ctx: Context, actor: Actor, rows: list[Row], *,
                dry_run: bool) -> None:
    actor.require(Role.coordinator)
    emails = [str(row.values["email"]).lower() for row in rows if "email" in row.values]
    users: dict[str, User] = {}
    for chunk in _chunks(emails):
        for user in session.scalars(select(User).where(func.lower(User.email).in_(chunk))):
            users[user.email.lower()] = user
    profiles: dict[uuid.UUID, Volunteer] = {}
    user_ids = [user.id for user in users.values()]
    for id_chunk in _chunks(user_ids):
        for volunteer in session.scalars(select(Volunteer)
                                         .where(Volunteer.user_id.in_(id_chunk))):
            profiles[volunteer.user_id] = volunteer
    seen: dict[str, int] = {}
    creates: list[VolunteerRow] = []
    updates: list[tuple[User, Volunteer, dict[str, Any]]] = []
    for row in rows:
        data = _validate(ctx, row, VolunteerRow, dict(row.values))
        if data is None or row.bad:
            continue
        try:
            volunteers._check_vehicle(data)
        except InvalidInput as exc:
            _domain_problem(ctx, row.number, exc)
            continue
        email = data.email.lower()
        if email in seen:
            ctx.problem(row.number, "email", f"Adresse déjà présente à la ligne {seen[email]}.",
                        f"Address already on row {seen[email]}.")
            continue
        seen[email] = row.number
        known = users.get(email)
        if known is None:
            creates.append(data)
            continue
        user = known
        profile = profiles.get(user.id)
        if (profile is None or user.role is not Role.volunteer
                or user.organisation_id != actor.organisation_id):
            ctx.problem(row.number, "email",
                        "Cette adresse e-mail appartient déjà à un autre compte.",
                        "This e-mail address already belongs to another account.")
            continue
        wanted = data.model_dump(mode="json")
        changes = {name: wanted[name] for name in ("full_name", *_PROFILE_FIELDS)
                   if _present(ctx, name)
                   and not _same(wanted[name],
                                 getattr(user if name == "full_name" else profile, name))}
        if changes:
            updates.append((user, profile, changes))
        else:
            ctx.report.unchanged += 1
    ctx.report.created = len(creates)
    ctx.report.updated = len(updates)
    if dry_run or ctx.report.problems:
        return
    for user, profile, changes in updates:
        for name, value in changes.items():
            setattr(user if name == "full_name" else profile, name, value)
    for data in creates:
        user = User(organisation_id=actor.organisation_id, email=data.email.lower(),
                    full_name=data.full_name, role=Role.volunteer,
                    password_hash=UNUSABLE_PASSWORD)
        session.add(user)
        session.flush()
        session.add(Volunteer(user_id=user.id, organisation_id=actor.organisation_id,
                              **data.model_dump(mode="json", include=set(_PROFILE_FIELDS))))
    session.flush()


# ---- entry point --------------------------------------------------------------------------


def run_import(
    session: Session,
    *,
    actor: Actor,
    kind: Kind,
    data: bytes,
    settings: Settings,
    dry_run: bool,
    week_id: uuid.UUID | None = None,
    today: date | None = None,
    bulk_threshold: int = BULK_THRESHOLD,
) -> ImportReport:
    """Read, check and (unless `dry_run`) write one file; raise ImportFailed on a commit with
    problems so the caller's transaction rolls back and nothing is written."""
    required = Role.association if kind == "households" else Role.coordinator
    actor.require(required)
    report = ImportReport(kind=kind, dry_run=dry_run)
    try:
        sheet = read_sheet(data, max_bytes=settings.import_max_bytes,
                           max_rows=settings.import_max_rows,
                           max_uncompressed=settings.import_max_uncompressed_bytes)
    except UnreadableFile as exc:
        report.problems.append(Problem(None, None, "file", exc.message_fr, exc.message_en))
        if not dry_run:
            raise ImportFailed(report) from exc
        return report
    report.rows = len(sheet.rows)
    by_field, by_index = _map_header(kind, sheet, report)
    if kind == "lots" and week_id is None:
        raise InvalidInput("Indiquez la semaine des lots (week_id).",
                           "Give the week of the lots (week_id).",
                           [{"field": "week_id", "message": "Champ obligatoire."}])
    if not report.problems:
        ctx = Context(kind=kind, sheet=sheet, columns=by_field, report=report,
                      tz=ZoneInfo(settings.timezone))
        rows = _rows(ctx, by_index)
        day = today or date.today()
        if kind == "households":
            _households(session, ctx, actor, rows, settings=settings, today=day,
                        dry_run=dry_run, bulk_threshold=bulk_threshold)
        elif kind == "lots":
            _lots(session, ctx, actor, rows, week_id=week_id, dry_run=dry_run)
        else:
            _volunteers(session, ctx, actor, rows, dry_run=dry_run)
    # Row by row, and within a row in the file's column order.
    position = {column.header: index for index, column in by_index.items()}
    position.update({text: index for index, text in enumerate(sheet.header) if text})
    report.problems.sort(key=lambda p: (p.row or 0, position.get(p.column or "", 10_000)))
    if report.problems and not dry_run:
        raise ImportFailed(report)
    return report
