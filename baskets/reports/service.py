"""The weekly report: a list of section builders over one week's stored allocation.

Every figure is computed from the stored baskets (`AllocatedBasket.items`) and the week's
lots, never from the solver's own metrics, so the report agrees with what was packed.
Kilometres come from the stored rounds and sponsorship hours from the logged hours. Adding a
section is one function `(ReportContext) -> Section` put in `SECTIONS`; the JSON, the page,
its charts and the XLSX document follow.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Role
from baskets.allocation.models import AllocatedBasket, Allocation
from baskets.common.scope import Actor, get_owned
from baskets.db import utcnow
from baskets.supply.models import Farmer, Product, SupplyLot
from baskets.territory.models import DistributionPoint, Neighbourhood
from baskets.weeks.models import Week

WEEK = ("Semaine", "Week")
Unit = Literal["", "kg", "€", "%", "km", "h"]
# Coverage buckets of ten points; the last one holds every basket at or above its need.
COVERAGE_BUCKETS = 10


@dataclass(frozen=True)
class Column:
    """A column of a section's table: its key in the rows, French and English headers."""

    key: str
    fr: str
    en: str
    unit: Unit = ""

    def title(self, locale: str) -> str:
        text = self.en if locale == "en" else self.fr
        return f"{text} ({self.unit})" if self.unit else text


@dataclass(frozen=True)
class Figure:
    """A headline figure of a section."""

    key: str
    fr: str
    en: str
    value: float | int | None
    unit: Unit = ""


@dataclass(frozen=True)
class Chart:
    """A bar chart of one section's rows: the label column against the value column."""

    label: str
    value: str
    orientation: Literal["horizontal", "vertical"] = "horizontal"


@dataclass
class Section:
    """One part of the report; `available` is False while its data does not exist yet."""

    key: str
    fr: str
    en: str
    figures: list[Figure] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: Chart | None = None
    note_fr: str = ""
    note_en: str = ""
    available: bool = True

    def as_dict(self, locale: str) -> dict[str, Any]:
        en = locale == "en"
        return {
            "key": self.key, "title": self.en if en else self.fr, "available": self.available,
            "note": self.note_en if en else self.note_fr,
            "figures": [{"key": f.key, "label": f.en if en else f.fr, "value": f.value,
                         "unit": f.unit} for f in self.figures],
            "columns": [{"key": c.key, "title": c.title(locale), "unit": c.unit}
                        for c in self.columns],
            "rows": self.rows,
            "chart": None if self.chart is None else {
                "label": self.chart.label, "value": self.chart.value,
                "orientation": self.chart.orientation},
        }


@dataclass(frozen=True)
class ReportContext:
    """What every section builder reads, loaded once."""

    session: Session
    week: Week
    allocation: Allocation | None
    baskets: list[AllocatedBasket]
    lots: list[SupplyLot]
    products: dict[uuid.UUID, Product]
    farmers: dict[uuid.UUID, str]
    neighbourhoods: dict[uuid.UUID, str]
    points: dict[uuid.UUID, str]

    def allocated_per_lot(self) -> dict[str, float]:
        """Kilos given out of each lot, summed over the stored baskets."""
        given: dict[str, float] = defaultdict(float)
        for basket in self.baskets:
            for item in basket.items:
                given[str(item["lot_id"])] += float(item["kg"])
        return given


SectionBuilder = Callable[[ReportContext], Section]


def _r(value: float, digits: int = 2) -> float:
    return round(value + 0.0, digits)


def households_reached(ctx: ReportContext) -> Section:
    """Households with a non-empty basket, per distribution point, and collection so far."""
    per_point: dict[uuid.UUID, dict[str, Any]] = {}
    for basket in ctx.baskets:
        row = per_point.setdefault(basket.distribution_point_id, {
            "point": ctx.points.get(basket.distribution_point_id, "?"), "households": 0,
            "reached": 0, "units": 0.0, "kg": 0.0, "collected": 0})
        row["households"] += 1
        row["reached"] += basket.kg > 0
        row["units"] += basket.consumption_units
        row["kg"] += basket.kg
        row["collected"] += basket.collected is True
    rows = sorted(({**row, "units": _r(row["units"]), "kg": _r(row["kg"])}
                   for row in per_point.values()), key=lambda row: str(row["point"]))
    reached = sum(row["reached"] for row in rows)
    return Section(
        key="households", fr="Foyers atteints", en="Households reached",
        figures=[
            Figure("households", "Foyers inscrits dans l'allocation",
                   "Households in the allocation", len(ctx.baskets)),
            Figure("reached", "Foyers avec un panier", "Households with a basket", reached),
            Figure("units", "Unités de consommation servies", "Consumption units served",
                   _r(sum(b.consumption_units for b in ctx.baskets if b.kg > 0))),
            Figure("collected", "Paniers déjà retirés", "Baskets collected so far",
                   sum(row["collected"] for row in rows)),
        ],
        columns=[Column("point", "Point de distribution", "Distribution point"),
                 Column("households", "Foyers", "Households"),
                 Column("reached", "Avec un panier", "With a basket"),
                 Column("units", "Unités de consommation", "Consumption units"),
                 Column("kg", "Kilos", "Kilos", "kg"),
                 Column("collected", "Retirés", "Collected")],
        rows=rows, chart=Chart("point", "reached"),
        note_fr="Un foyer est atteint quand son panier n'est pas vide.",
        note_en="A household is reached when its basket is not empty.",
    )


def kg_per_neighbourhood(ctx: ReportContext) -> Section:
    """Kilos, households and coverage per neighbourhood."""
    groups: dict[uuid.UUID, list[AllocatedBasket]] = defaultdict(list)
    for basket in ctx.baskets:
        groups[basket.neighbourhood_id].append(basket)
    rows = sorted(({
        "neighbourhood": ctx.neighbourhoods.get(nid, "?"), "households": len(baskets),
        "kg": _r(sum(b.kg for b in baskets)),
        "kg_per_household": _r(sum(b.kg for b in baskets) / len(baskets)),
        "min_coverage": _r(100 * min(b.coverage for b in baskets), 1),
        "mean_coverage": _r(100 * sum(b.coverage for b in baskets) / len(baskets), 1),
    } for nid, baskets in groups.items()), key=lambda row: str(row["neighbourhood"]))
    return Section(
        key="neighbourhoods", fr="Kilos par quartier", en="Kilos per neighbourhood",
        figures=[Figure("kg", "Kilos distribués", "Kilos handed out",
                        _r(sum(b.kg for b in ctx.baskets)), "kg"),
                 Figure("neighbourhoods", "Quartiers servis", "Neighbourhoods served",
                        len(rows))],
        columns=[Column("neighbourhood", "Quartier", "Neighbourhood"),
                 Column("households", "Foyers", "Households"),
                 Column("kg", "Kilos", "Kilos", "kg"),
                 Column("kg_per_household", "Kilos par foyer", "Kilos per household", "kg"),
                 Column("min_coverage", "Couverture minimale", "Worst coverage", "%"),
                 Column("mean_coverage", "Couverture moyenne", "Mean coverage", "%")],
        rows=rows, chart=Chart("neighbourhood", "kg"),
    )


def kg_per_product(ctx: ReportContext) -> Section:
    """Per product: kilos supplied, handed out and left."""
    supplied: dict[uuid.UUID, float] = defaultdict(float)
    for lot in ctx.lots:
        supplied[lot.product_id] += lot.quantity_kg
    given: dict[uuid.UUID, float] = defaultdict(float)
    receivers: dict[uuid.UUID, int] = defaultdict(int)
    for basket in ctx.baskets:
        seen = set()
        for item in basket.items:
            pid = uuid.UUID(str(item["product_id"]))
            given[pid] += float(item["kg"])
            if item["kg"] > 0:
                seen.add(pid)
        for pid in seen:
            receivers[pid] += 1
    rows = sorted(({
        "product": ctx.products[pid].name, "category": ctx.products[pid].category.value,
        "supplied_kg": _r(kg), "allocated_kg": _r(given[pid]),
        "left_kg": _r(max(kg - given[pid], 0.0)), "households": receivers[pid],
    } for pid, kg in supplied.items()), key=lambda row: -float(row["allocated_kg"]))
    return Section(
        key="products", fr="Kilos par produit", en="Kilos per product",
        figures=[Figure("products", "Produits", "Products", len(rows)),
                 Figure("supplied_kg", "Kilos achetés", "Kilos bought",
                        _r(sum(supplied.values())), "kg")],
        columns=[Column("product", "Produit", "Product"),
                 Column("category", "Catégorie", "Category"),
                 Column("supplied_kg", "Achetés", "Bought", "kg"),
                 Column("allocated_kg", "Distribués", "Handed out", "kg"),
                 Column("left_kg", "Restants", "Left", "kg"),
                 Column("households", "Foyers", "Households")],
        rows=rows, chart=Chart("product", "allocated_kg"),
    )


def coverage_bucket(coverage: float) -> int:
    """0 for 0-9 %, 1 for 10-19 %, ... 10 for 100 % and more."""
    return min(int(round(coverage * 100, 6)) // 10, COVERAGE_BUCKETS)


def coverage_label(bucket: int) -> str:
    if bucket >= COVERAGE_BUCKETS:
        return "≥ 100 %"
    return f"{10 * bucket}–{10 * bucket + 9} %"


def coverage_distribution(ctx: ReportContext) -> Section:
    """How many households got which share of their need, by steps of ten points."""
    counts = [0] * (COVERAGE_BUCKETS + 1)
    for basket in ctx.baskets:
        counts[coverage_bucket(basket.coverage)] += 1
    total = len(ctx.baskets)
    coverages = [b.coverage for b in ctx.baskets]
    rows = [{"coverage": coverage_label(bucket), "households": count,
             "share": _r(100 * count / total, 1) if total else 0.0}
            for bucket, count in enumerate(counts)]
    return Section(
        key="coverage", fr="Répartition de la couverture des besoins",
        en="Distribution of need coverage",
        figures=[
            Figure("min", "Couverture minimale", "Worst coverage",
                   _r(100 * min(coverages), 1) if coverages else None, "%"),
            Figure("median", "Couverture médiane", "Median coverage",
                   _r(100 * median(coverages), 1) if coverages else None, "%"),
            Figure("mean", "Couverture moyenne", "Mean coverage",
                   _r(100 * sum(coverages) / total, 1) if coverages else None, "%"),
        ],
        columns=[Column("coverage", "Couverture du besoin", "Need covered"),
                 Column("households", "Foyers", "Households"),
                 Column("share", "Part des foyers", "Share of households", "%")],
        rows=rows, chart=Chart("coverage", "households", "vertical"),
        note_fr="Couverture = kilos du panier / besoin du foyer (kilos par unité de "
                "consommation × unités de consommation).",
        note_en="Coverage = basket kilos / the household's need (kilos per consumption unit "
                "× consumption units).",
    )


def kg_unallocated(ctx: ReportContext) -> Section:
    """What was bought and not handed out, lot by lot."""
    given = ctx.allocated_per_lot()
    rows: list[dict[str, Any]] = []
    for lot in ctx.lots:
        left = lot.quantity_kg - given.get(str(lot.id), 0.0)
        if left > 0.0005:
            rows.append({"farmer": ctx.farmers.get(lot.farmer_id, "?"),
                         "product": ctx.products[lot.product_id].name,
                         "supplied_kg": _r(lot.quantity_kg), "left_kg": _r(left),
                         "share": _r(100 * left / lot.quantity_kg, 1)})
    rows.sort(key=lambda row: -float(row["left_kg"]))
    total = sum(lot.quantity_kg for lot in ctx.lots)
    left_total = sum(float(row["left_kg"]) for row in rows)
    return Section(
        key="unallocated", fr="Kilos non alloués", en="Kilos not allocated",
        figures=[Figure("left_kg", "Kilos non alloués", "Kilos not allocated",
                        _r(left_total), "kg"),
                 Figure("share", "Part de l'approvisionnement", "Share of the supply",
                        _r(100 * left_total / total, 1) if total else 0.0, "%")],
        columns=[Column("farmer", "Producteur", "Farmer"),
                 Column("product", "Produit", "Product"),
                 Column("supplied_kg", "Achetés", "Bought", "kg"),
                 Column("left_kg", "Non alloués", "Not allocated", "kg"),
                 Column("share", "Part du lot", "Share of the lot", "%")],
        rows=rows, chart=Chart("product", "left_kg"),
        note_fr="Non alloué = quantité du lot − somme des kilos de ce lot dans les paniers.",
        note_en="Not allocated = the lot's quantity − the sum of its kilos in the baskets.",
    )


def paid_to_farmers(ctx: ReportContext) -> Section:
    """Money paid to farmers: kilos bought × price per kilo (and the share handed out)."""
    given = ctx.allocated_per_lot()
    per_farmer: dict[uuid.UUID, dict[str, Any]] = {}
    for lot in ctx.lots:
        row = per_farmer.setdefault(lot.farmer_id, {
            "farmer": ctx.farmers.get(lot.farmer_id, "?"), "lots": 0, "bought_kg": 0.0,
            "paid_eur": 0.0, "allocated_kg": 0.0, "allocated_eur": 0.0})
        kg = given.get(str(lot.id), 0.0)
        row["lots"] += 1
        row["bought_kg"] += lot.quantity_kg
        row["paid_eur"] += lot.quantity_kg * lot.price_per_kg
        row["allocated_kg"] += kg
        row["allocated_eur"] += kg * lot.price_per_kg
    rows = sorted(({**row, "bought_kg": _r(row["bought_kg"]), "paid_eur": _r(row["paid_eur"]),
                    "allocated_kg": _r(row["allocated_kg"]),
                    "allocated_eur": _r(row["allocated_eur"])}
                   for row in per_farmer.values()), key=lambda row: str(row["farmer"]))
    paid = sum(lot.quantity_kg * lot.price_per_kg for lot in ctx.lots)
    return Section(
        key="farmers", fr="Sommes payées aux producteurs", en="Money paid to farmers",
        figures=[Figure("paid_eur", "Payé aux producteurs", "Paid to farmers", _r(paid), "€"),
                 Figure("allocated_eur", "Valeur des kilos distribués",
                        "Value of the kilos handed out",
                        _r(sum(float(row["allocated_eur"]) for row in rows)), "€"),
                 Figure("farmers", "Producteurs", "Farmers", len(rows))],
        columns=[Column("farmer", "Producteur", "Farmer"),
                 Column("lots", "Lots", "Lots"),
                 Column("bought_kg", "Achetés", "Bought", "kg"),
                 Column("paid_eur", "Payé", "Paid", "€"),
                 Column("allocated_kg", "Distribués", "Handed out", "kg"),
                 Column("allocated_eur", "Valeur distribuée", "Value handed out", "€")],
        rows=rows, chart=Chart("farmer", "paid_eur"),
        note_fr="Payé = kilos achetés (la quantité de chaque lot saisi) × prix au kilo du "
                "lot : le producteur est payé pour tout le lot, distribué ou non. La valeur "
                "distribuée compte les seuls kilos alloués aux paniers.",
        note_en="Paid = kilos bought (each entered lot's quantity) × the lot's price per "
                "kilo: the farmer is paid for the whole lot, handed out or not. The value "
                "handed out counts only the kilos allocated to baskets.",
    )


def km_driven(ctx: ReportContext) -> Section:
    """Kilometres and hours of the week's planned rounds (cancelled ones left out), per round,
    and the stops no vehicle could take."""
    from baskets.rounds.models import Round, RoundPlan, RoundStatus, RoundStop, UnservedStop

    plan = ctx.session.scalar(select(RoundPlan).where(RoundPlan.week_id == ctx.week.id))
    if plan is None:
        return Section(
            key="km", fr="Kilomètres parcourus", en="Kilometres driven", available=False,
            note_fr="Les tournées de la semaine ne sont pas encore planifiées.",
            note_en="The week's rounds are not planned yet.")
    rounds = list(ctx.session.scalars(
        select(Round).where(Round.plan_id == plan.id, Round.status != RoundStatus.cancelled)
        .order_by(Round.day, Round.number)))
    unserved = list(ctx.session.scalars(
        select(UnservedStop).where(UnservedStop.plan_id == plan.id)))
    stops = dict(ctx.session.execute(
        select(RoundStop.round_id, func.count()).where(RoundStop.round_id.in_(
            [r.id for r in rounds])).group_by(RoundStop.round_id)).all())
    rows = [{"round": f"{r.number} ({r.day})", "vehicle": r.vehicle_label,
             "stops": int(stops.get(r.id, 0)), "km": _r(r.km, 1),
             "hours": _r(r.duration_min / 60, 2), "kg": _r(r.kg_handled)} for r in rounds]
    return Section(
        key="km", fr="Kilomètres parcourus", en="Kilometres driven",
        figures=[Figure("km", "Kilomètres parcourus", "Kilometres driven",
                        _r(sum(r.km for r in rounds), 1), "km"),
                 Figure("rounds", "Tournées", "Rounds", len(rounds)),
                 Figure("hours", "Heures de route et de service", "Hours on the road",
                        _r(sum(r.duration_min for r in rounds) / 60, 1), "h"),
                 Figure("with_driver", "Tournées avec chauffeur", "Rounds with a driver",
                        sum(r.driver_id is not None for r in rounds)),
                 Figure("unserved", "Étapes non desservies", "Stops not served",
                        len(unserved)),
                 Figure("unserved_kg", "Kilos non transportés", "Kilos not carried",
                        _r(sum(u.kg for u in unserved)), "kg")],
        columns=[Column("round", "Tournée (jour)", "Round (day)"),
                 Column("vehicle", "Véhicule", "Vehicle"),
                 Column("stops", "Étapes", "Stops"),
                 Column("km", "Kilomètres", "Kilometres", "km"),
                 Column("hours", "Durée", "Duration", "h"),
                 Column("kg", "Kilos chargés et livrés", "Kilos handled", "kg")],
        rows=rows, chart=Chart("round", "km"),
        note_fr="Kilomètres et durées planifiés (distance à vol d'oiseau × facteur routier, "
                "ou OSRM) ; une étape non desservie est comptée pour le point et le jour.",
        note_en="Planned kilometres and durations (great-circle distance × road factor, or "
                "OSRM); a stop not served counts once for its place and day.",
    )


def sponsorship_hours(ctx: ReportContext) -> Section:
    """Hours given to the team's projects during the week (worked on one of its seven days),
    by skills sponsorship (companies' offers) and by volunteers, per neighbourhood."""
    from datetime import timedelta

    from baskets.accounts.models import Organisation
    from baskets.engagements.models import Engagement, HoursLog
    from baskets.sponsorship.models import Project

    last_day = ctx.week.starts_on + timedelta(days=6)
    logged = ctx.session.execute(
        select(HoursLog.hours, HoursLog.approved_at, Engagement.offer_id,
               Engagement.provider_organisation_id, Project.neighbourhood_id)
        .join(Engagement, Engagement.id == HoursLog.engagement_id)
        .join(Project, Project.id == Engagement.project_id)
        .where(Engagement.organisation_id == ctx.week.organisation_id,
               HoursLog.worked_on >= ctx.week.starts_on, HoursLog.worked_on <= last_day)
    ).all()
    names = dict(ctx.session.execute(select(Neighbourhood.id, Neighbourhood.name).where(
        Neighbourhood.id.in_({n for *_, n in logged}))).all())
    costs = dict(ctx.session.execute(select(Organisation.id, Organisation.hourly_cost).where(
        Organisation.id.in_({c for *_, c, _n in logged if c is not None}))).all())
    per_hood: dict[uuid.UUID, dict[str, Any]] = {}
    value = 0.0
    for hours, approved_at, offer_id, company_id, hood_id in logged:
        row = per_hood.setdefault(hood_id, {
            "neighbourhood": names.get(hood_id, "?"), "sponsorship_hours": 0.0,
            "volunteer_hours": 0.0, "pending_hours": 0.0})
        if approved_at is None:
            row["pending_hours"] += hours
        elif offer_id is not None:
            row["sponsorship_hours"] += hours
            value += hours * float((costs.get(company_id) if company_id else None) or 0.0)
        else:
            row["volunteer_hours"] += hours
    rows = sorted(({k: (_r(v) if isinstance(v, float) else v) for k, v in row.items()}
                   for row in per_hood.values()), key=lambda row: str(row["neighbourhood"]))
    total = sum(float(row["sponsorship_hours"]) for row in rows)
    return Section(
        key="sponsorship", fr="Heures de mécénat de compétences",
        en="Hours of skills sponsorship", available=bool(logged),
        figures=[Figure("sponsorship_hours", "Heures de mécénat approuvées",
                        "Sponsorship hours approved", _r(total), "h"),
                 Figure("volunteer_hours", "Heures de bénévoles approuvées",
                        "Volunteer hours approved",
                        _r(sum(float(row["volunteer_hours"]) for row in rows)), "h"),
                 Figure("pending_hours", "Heures en attente d'approbation",
                        "Hours awaiting approval",
                        _r(sum(float(row["pending_hours"]) for row in rows)), "h"),
                 Figure("value_eur", "Valeur du mécénat au coût horaire déclaré",
                        "Sponsorship value at the declared hourly cost", _r(value), "€")],
        columns=[Column("neighbourhood", "Quartier du projet", "Project's neighbourhood"),
                 Column("sponsorship_hours", "Mécénat approuvé", "Sponsorship approved", "h"),
                 Column("volunteer_hours", "Bénévoles approuvé", "Volunteers approved", "h"),
                 Column("pending_hours", "En attente", "Awaiting approval", "h")],
        rows=rows, chart=Chart("neighbourhood", "sponsorship_hours"),
        note_fr="Heures saisies pour un jour de la semaine sur les engagements issus des "
                "appariements de l'équipe ; approuvées par le projet, ou en attente."
                if logged else "Aucune heure saisie pour un jour de cette semaine.",
        note_en="Hours logged for a day of the week on the engagements of the team's "
                "matchings; approved by the project, or awaiting approval."
                if logged else "No hours logged for a day of this week.",
    )


SECTIONS: list[SectionBuilder] = [
    households_reached, kg_per_neighbourhood, kg_per_product, coverage_distribution,
    kg_unallocated, paid_to_farmers, km_driven, sponsorship_hours,
]


@dataclass
class Report:
    """The weekly report: which week, when, and its sections in order."""

    week: Week
    generated_at: datetime
    allocated: bool
    sections: list[Section]

    def as_dict(self, locale: str) -> dict[str, Any]:
        return {"week_id": self.week.id, "starts_on": self.week.starts_on,
                "status": self.week.status.value, "generated_at": self.generated_at,
                "allocated": self.allocated,
                "sections": [section.as_dict(locale) for section in self.sections]}


def load_context(session: Session, week: Week) -> ReportContext:
    """The week's stored allocation, baskets, lots and the names the sections show."""
    allocation = session.scalar(select(Allocation).where(Allocation.week_id == week.id))
    baskets = list(session.scalars(
        select(AllocatedBasket).where(AllocatedBasket.week_id == week.id)
        .order_by(AllocatedBasket.id)))
    lots = list(session.scalars(select(SupplyLot).where(SupplyLot.week_id == week.id)
                                .order_by(SupplyLot.created_at, SupplyLot.id)))
    return ReportContext(
        session=session, week=week, allocation=allocation, baskets=baskets, lots=lots,
        products={p.id: p for p in session.scalars(select(Product))},
        farmers=dict(session.execute(select(Farmer.id, Farmer.name).where(
            Farmer.id.in_({lot.farmer_id for lot in lots}))).all()),
        neighbourhoods=dict(session.execute(select(Neighbourhood.id, Neighbourhood.name).where(
            Neighbourhood.id.in_({b.neighbourhood_id for b in baskets}))).all()),
        points=dict(session.execute(select(DistributionPoint.id, DistributionPoint.name).where(
            DistributionPoint.id.in_({b.distribution_point_id for b in baskets}))).all()),
    )


def weekly_report(session: Session, *, actor: Actor, week_id: uuid.UUID,
                  builders: list[SectionBuilder] | None = None) -> Report:
    """The report of one of the food team's weeks (before allocation: supply only)."""
    actor.require(Role.coordinator)
    week = get_owned(session, Week, week_id, actor, WEEK)
    ctx = load_context(session, week)
    return Report(week=week, generated_at=utcnow(), allocated=ctx.allocation is not None,
                  sections=[build(ctx) for build in (builders or SECTIONS)])
