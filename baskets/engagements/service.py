"""Match providers' hours to projects, store the engagements, and follow them to completion.

A matching run builds the solver's problem from the coordinator's territory (projects with
needs, companies' offers, the team's volunteers), keeps every engagement some side already
accepted as fixed, replaces the untouched proposals, and stores the figures, the assignments
and the uncovered needs with their reasons in French and English.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from baskets.accounts.models import Organisation, Role, User
from baskets.common.scope import Actor, get_from, get_owned
from baskets.db import utcnow
from baskets.engagements.models import (
    Decision,
    Engagement,
    EngagementStatus,
    HoursLog,
    MatchingRun,
)
from baskets.engagements.schemas import HoursIn
from baskets.errors import Conflict, Forbidden, InvalidInput, NotFound
from baskets.io.export import Table
from baskets.matching import projects as solver
from baskets.matching.reasons import Reason, num_en, num_fr
from baskets.sponsorship.models import Offer, Project, ProjectNeed
from baskets.territory.models import Neighbourhood
from baskets.volunteers.models import Volunteer

RUN = ("Appariement", "Matching run")
ENGAGEMENT = ("Engagement", "Engagement")
HOURS = ("Saisie d'heures", "Hours entry")
PROJECT = ("Projet", "Project")
EPS = 1e-6
TAX_REDUCTION_RATE = 0.6  # French skills sponsorship: 60% of the value given
VOLUNTEER_WINDOW_DAYS = 3650  # volunteers have no period: always available
VOLUNTEER_MIN_CHUNK = 1.0
# Engagements that hold the provider's and the project's hours.
COMMITTED = (EngagementStatus.accepted, EngagementStatus.in_progress, EngagementStatus.completed)


def fmt(x: float) -> str:
    """Hours for a French sentence: decimal comma, no trailing zero."""
    return num_fr(x)


def fmt_en(x: float) -> str:
    """Hours for an English sentence."""
    return num_en(x)


# ---------------------------------------------------------------------------- the run


@dataclass
class _Built:
    """The solver's problem with the maps back to database rows."""

    problem: solver.MatchingProblem
    today: date
    offers: dict[str, Offer] = field(default_factory=dict)
    volunteers: dict[str, tuple[Volunteer, User]] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    fixed: list[Engagement] = field(default_factory=list)


def _unique(label: str, taken: set[str]) -> str:
    out, n = label, 2
    while out in taken:
        out, n = f"{label} #{n}", n + 1
    taken.add(out)
    return out


def is_held(engagement: Engagement) -> bool:
    """Whether a re-run must keep the engagement (some side accepted it, nobody declined)."""
    if engagement.status in COMMITTED:
        return True
    return (engagement.status is EngagementStatus.proposed
            and Decision.accepted in (engagement.provider_decision, engagement.project_decision))


def build_problem(session: Session, actor: Actor, today: date) -> _Built:
    """The territory's open projects, offers and volunteers, with held engagements as fixed."""
    territory_orgs = select(Organisation.id).where(
        Organisation.territory_id == actor.territory_id)
    hoods = {h.id: h for h in session.scalars(
        select(Neighbourhood).where(Neighbourhood.territory_id == actor.territory_id))}
    names = [h.name for h in hoods.values()]
    hood_key = {hid: (h.name if names.count(h.name) == 1 else f"{h.name} ({h.qpv_code})")
                for hid, h in hoods.items()}
    orgs = {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.territory_id == actor.territory_id))}
    taken: set[str] = set()
    built = _Built(solver.MatchingProblem((), ()), today)

    def day(d: date) -> int:
        return (d - today).days

    projects: list[solver.Project] = []
    for project in session.scalars(
        select(Project).where(Project.organisation_id.in_(territory_orgs))
        .where(Project.ends_on >= today).order_by(Project.starts_on, Project.id)
    ):
        key = _unique(project.title, taken)
        built.projects[key] = project
        projects.append(solver.Project(
            id=key, neighbourhood=hood_key.get(project.neighbourhood_id, "?"),
            lat=project.lat, lon=project.lon,
            window=(day(project.starts_on), day(project.ends_on)),
            needs=tuple(solver.Need(n.skill, n.hours, n.min_level) for n in project.needs),
            qpv=True, remote_ok=project.remote_ok))
    providers: list[solver.Provider] = []
    agreements: dict[str, float] = {}
    company_key: dict[uuid.UUID, str] = {}
    for offer in session.scalars(
        select(Offer).where(Offer.organisation_id.in_(territory_orgs))
        .where(Offer.ends_on >= today).order_by(Offer.starts_on, Offer.id)
    ):
        company = orgs[offer.organisation_id]
        if company.id not in company_key:
            company_key[company.id] = _unique(company.name, set(company_key.values()))
            if company.agreement_hours is not None:
                agreements[company_key[company.id]] = company.agreement_hours
        key = _unique(f"{offer.title} ({company.name})", taken)
        built.offers[key] = offer
        providers.append(solver.Provider(
            id=key, skills={s: int(v) for s, v in offer.skills.items()}, hours=offer.hours,
            lat=offer.lat, lon=offer.lon, window=(day(offer.starts_on), day(offer.ends_on)),
            max_km=offer.max_km, min_chunk_hours=offer.min_chunk_hours,
            remote_ok=offer.remote_ok, company=company_key[company.id]))
    for volunteer, user in session.execute(
        select(Volunteer, User).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.organisation_id == actor.organisation_id)
        .where(Volunteer.hours_per_month > 0).where(User.is_active.is_(True))
        .order_by(Volunteer.id)
    ):
        if not volunteer.skills:
            continue
        key = _unique(user.full_name, taken)
        built.volunteers[key] = (volunteer, user)
        providers.append(solver.Provider(
            id=key, skills={s: int(v) for s, v in volunteer.skills.items()},
            hours=volunteer.hours_per_month, lat=volunteer.lat, lon=volunteer.lon,
            window=(-VOLUNTEER_WINDOW_DAYS, VOLUNTEER_WINDOW_DAYS), max_km=volunteer.max_km,
            min_chunk_hours=min(VOLUNTEER_MIN_CHUNK, volunteer.hours_per_month),
            remote_ok=volunteer.remote_ok))
    # Held engagements: fixed when both ends are in the problem, else they still use budgets.
    project_key = {p.id: k for k, p in built.projects.items()}
    offer_key = {o.id: k for k, o in built.offers.items()}
    volunteer_key = {v.id: k for k, (v, _) in built.volunteers.items()}
    used_outside: dict[str, float] = defaultdict(float)
    fixed: list[solver.FixedAssignment] = []
    excluded: set[tuple[str, str]] = set()
    held: list[Engagement] = []
    for e in session.scalars(
            select(Engagement).where(Engagement.organisation_id == actor.organisation_id)
            .order_by(Engagement.created_at, Engagement.id)):
        pkey = (offer_key.get(e.offer_id) if e.offer_id
                else volunteer_key.get(e.volunteer_id) if e.volunteer_id else None)
        jkey = project_key.get(e.project_id)
        if e.status is EngagementStatus.declined and pkey and jkey:
            excluded.add((pkey, jkey))  # a declined pairing is never proposed again
        elif is_held(e):
            held.append(e)
    for e in held:
        pkey = (offer_key.get(e.offer_id) if e.offer_id
                else volunteer_key.get(e.volunteer_id) if e.volunteer_id else None)
        jkey = project_key.get(e.project_id)
        held_project = built.projects.get(jkey) if jkey else None
        if pkey is not None and jkey is not None and held_project is not None and any(
                n.skill == e.skill for n in held_project.needs):
            need = next((k for k, n in enumerate(held_project.needs) if n.id == e.need_id),
                        None)
            fixed.append(solver.FixedAssignment(pkey, jkey, e.skill, e.hours, need))
            built.fixed.append(e)
        elif pkey is not None:
            used_outside[pkey] += e.hours
    if used_outside:
        providers = [
            _with_hours(p, max(p.hours - used_outside.get(p.id, 0.0), 0.0)) for p in providers]
    built.problem = solver.MatchingProblem(tuple(projects), tuple(providers), agreements,
                                           tuple(fixed), frozenset(excluded))
    return built


def _with_hours(p: solver.Provider, hours: float) -> solver.Provider:
    return solver.Provider(p.id, p.skills, hours, p.lat, p.lon, p.window, p.max_km,
                           min(p.min_chunk_hours, hours), p.remote_ok, p.company)


def _reason_rows(reasons: Iterable[Reason]) -> list[dict[str, str]]:
    return [{"code": r.code, "fr": r.fr, "en": r.en} for r in reasons]


def _dates_reason(starts_on: date, ends_on: date) -> dict[str, str]:
    days = (ends_on - starts_on).days + 1
    return {"code": "dates",
            "fr": f"Dates compatibles : du {starts_on:%d/%m/%Y} au {ends_on:%d/%m/%Y} "
                  f"({days} jours en commun).",
            "en": f"Dates overlap: from {starts_on:%Y-%m-%d} to {ends_on:%Y-%m-%d} "
                  f"({days} days in common)."}


def check_matchable(session: Session, *, actor: Actor, today: date) -> None:
    """403 unless a coordinator; 422 when the territory has no open project to match."""
    actor.require(Role.coordinator)
    territory_orgs = select(Organisation.id).where(
        Organisation.territory_id == actor.territory_id)
    if session.scalar(select(Project.id).where(Project.organisation_id.in_(territory_orgs))
                      .where(Project.ends_on >= today).limit(1)) is None:
        raise InvalidInput("Aucun projet ouvert dans le territoire.",
                           "No open project in the territory.")


def run_matching(
    session: Session, *, actor: Actor, time_limit: float, seed: int,
    today: date | None = None,
) -> MatchingRun:
    """Solve the territory's matching and store it; held engagements stay as they are."""
    today = today or date.today()
    check_matchable(session, actor=actor, today=today)
    built = build_problem(session, actor, today)
    started = time.perf_counter()
    result = solver.match_projects(built.problem, time_limit=time_limit, seed=seed)
    wall = time.perf_counter() - started
    # Re-running replaces only the proposals nobody has answered yet.
    session.execute(delete(Engagement).where(
        Engagement.organisation_id == actor.organisation_id,
        Engagement.status == EngagementStatus.proposed,
        Engagement.provider_decision == Decision.pending,
        Engagement.project_decision == Decision.pending,
    ).execution_options(synchronize_session=False))
    metrics = {k: v for k, v in result.metrics.items() if not k.startswith("seconds_")}
    run = MatchingRun(
        organisation_id=actor.organisation_id, requested_by=actor.user.id,
        solver_status=result.status, time_limit=time_limit, seed=seed,
        wall_seconds=round(wall, 3), worst_share=float(result.metrics.get("worst_share", 0.0)),
        hours_covered=float(result.metrics.get("hours_assigned", 0.0)),
        hours_needed=float(result.metrics.get("hours_needed", 0.0)),
        metrics={**metrics, "neighbourhood_share": {
            h: round(s, 4) for h, s in result.neighbourhood_share.items()}},
        assignments=[], uncovered=[],
    )
    session.add(run)
    session.flush()
    # The solver returns the fixed assignments first, in the order they were given.
    held = iter(built.fixed)
    rows: list[dict[str, Any]] = []
    for a in result.assignments:
        project = built.projects[a.project]
        need = project.needs[a.need]
        engagement = next(held, None) if a.fixed else None
        if engagement is None:
            engagement = _new_engagement(built, actor, run, a, project, need)
            session.add(engagement)
            session.flush()
        rows.append({
            "engagement_id": str(engagement.id), "provider": a.provider,
            "provider_kind": "offer" if engagement.offer_id else "volunteer",
            "project_id": str(project.id), "project": project.title,
            "need_id": str(need.id), "skill": a.skill, "hours": a.hours, "fixed": a.fixed,
            "reasons": engagement.reasons,
        })
    run.assignments = rows
    run.uncovered = [
        {"project_id": str(built.projects[u.project].id), "project": u.project,
         "need_id": str(built.projects[u.project].needs[u.need].id), "skill": u.skill,
         "hours": u.hours, "reasons": _reason_rows(u.reasons)}
        for u in result.uncovered
    ]
    session.flush()
    return run


def _new_engagement(built: _Built, actor: Actor, run: MatchingRun, a: solver.Assignment,
                    project: Project, need: ProjectNeed) -> Engagement:
    offer = built.offers.get(a.provider)
    if offer is not None:
        starts, ends = offer.starts_on, offer.ends_on
        lat, lon, max_km = offer.lat, offer.lon, offer.max_km
    else:
        volunteer, _ = built.volunteers[a.provider]
        starts, ends = project.starts_on, project.ends_on
        lat, lon, max_km = volunteer.lat, volunteer.lon, volunteer.max_km
    starts, ends = max(starts, project.starts_on), min(ends, project.ends_on)
    distance = solver.distance_km(lat, lon, project.lat, project.lon)
    # The solver counts days from today; people read dates.
    reasons = [_dates_reason(starts, ends) if row["code"] == "dates" else row
               for row in _reason_rows(a.reasons)]
    return Engagement(
        organisation_id=actor.organisation_id, run_id=run.id,
        offer_id=offer.id if offer else None,
        volunteer_id=None if offer else built.volunteers[a.provider][0].id,
        provider_organisation_id=offer.organisation_id if offer else None,
        project_id=project.id, project_organisation_id=project.organisation_id,
        need_id=need.id, skill=a.skill, hours=a.hours, starts_on=starts, ends_on=ends,
        distance_km=round(distance, 2), remote=distance > max_km, reasons=reasons,
    )


def get_run(session: Session, *, actor: Actor, run_id: uuid.UUID) -> MatchingRun:
    """A matching run of the coordinator's team."""
    actor.require(Role.coordinator)
    return get_owned(session, MatchingRun, run_id, actor, RUN)


def runs_query(actor: Actor) -> Select[MatchingRun]:
    """The team's matching runs, newest first."""
    actor.require(Role.coordinator)
    return (select(MatchingRun).where(MatchingRun.organisation_id == actor.organisation_id)
            .order_by(MatchingRun.created_at.desc(), MatchingRun.id))


def latest_run(session: Session, *, actor: Actor) -> MatchingRun | None:
    """The team's newest matching run, if any."""
    return session.scalars(runs_query(actor).limit(1)).first()


def localise(reasons: list[dict[str, str]], locale: str) -> list[str]:
    """The reason sentences in `locale`."""
    return [r["en"] if locale == "en" else r["fr"] for r in reasons]


def run_out(run: MatchingRun, locale: str) -> dict[str, Any]:
    """A run with its reasons in the caller's language."""
    return {
        "id": run.id, "created_at": run.created_at, "solver_status": run.solver_status,
        "time_limit": run.time_limit, "seed": run.seed, "wall_seconds": run.wall_seconds,
        "worst_share": run.worst_share, "hours_covered": run.hours_covered,
        "hours_needed": run.hours_needed, "metrics": run.metrics,
        "assignments": [{**a, "reasons": localise(a["reasons"], locale)}
                        for a in run.assignments],
        "uncovered": [{**u, "reasons": localise(u["reasons"], locale)} for u in run.uncovered],
    }


def summary_fr(run: MatchingRun) -> str:
    """One French line of the run's figures."""
    return (f"{len(run.assignments)} affectations, {fmt(run.hours_covered)} h couvertes sur "
            f"{fmt(run.hours_needed)} h demandées, quartier le moins servi à "
            f"{100 * run.worst_share:.0f} %")


# ---------------------------------------------------------------------------- engagements


def _own_volunteer_id(session: Session, actor: Actor) -> uuid.UUID | None:
    return session.scalar(select(Volunteer.id).where(Volunteer.user_id == actor.user.id))


def engagements_query(session: Session, actor: Actor) -> Select[Engagement]:
    """Engagements the caller is party to: its offers', its own, its projects', its team's."""
    query = select(Engagement)
    if actor.role is Role.company:
        query = query.where(Engagement.provider_organisation_id == actor.organisation_id)
    elif actor.role is Role.volunteer:
        query = query.where(Engagement.volunteer_id == _own_volunteer_id(session, actor))
    elif actor.role is Role.association:
        query = query.where(Engagement.project_organisation_id == actor.organisation_id)
    else:  # coordinators and admins: the engagements their team's runs proposed
        query = query.where(Engagement.organisation_id == actor.organisation_id)
    return query.order_by(Engagement.starts_on, Engagement.created_at, Engagement.id)


def pending_for(session: Session, actor: Actor) -> int:
    """How many proposals wait for the caller's side to answer."""
    side = _side(actor)
    decision = (Engagement.provider_decision if side == "provider"
                else Engagement.project_decision)
    query = engagements_query(session, actor).where(
        Engagement.status == EngagementStatus.proposed, decision == Decision.pending)
    return len(session.scalars(query).all())


def get_engagement(session: Session, *, actor: Actor, engagement_id: uuid.UUID) -> Engagement:
    """An engagement the caller is party to, else 404."""
    return get_from(session, engagements_query(session, actor), Engagement, engagement_id,
                    ENGAGEMENT)


def _locked(session: Session, actor: Actor, engagement_id: uuid.UUID) -> Engagement:
    """The engagement, row-locked (PostgreSQL) so the two sides' answers and concurrent hours
    entries are applied one after the other."""
    engagement = get_engagement(session, actor=actor, engagement_id=engagement_id)
    session.refresh(engagement, with_for_update=True)
    return engagement


def _side(actor: Actor) -> str:
    if actor.role in (Role.company, Role.volunteer):
        return "provider"
    if actor.role is Role.association:
        return "project"
    raise Forbidden()


def _committed_hours(session: Session, *conditions: Any, side: str) -> float:
    """Hours of engagements held by `side` (accepted by it, or committed) matching `conditions`."""
    attr = f"{side}_decision"
    total = 0.0
    for e in session.scalars(select(Engagement).where(*conditions)):
        if e.status in COMMITTED or (e.status is EngagementStatus.proposed
                                     and getattr(e, attr) is Decision.accepted):
            total += e.hours
    return total


def _check_budgets(session: Session, engagement: Engagement, side: str) -> None:
    """Accepting never takes an offer, an agreement or a need beyond its hours."""
    others = Engagement.id != engagement.id
    # The offer, the company and the need are locked (PostgreSQL) so two acceptances at once
    # cannot both fit in the same hours; SQLite already serialises writers (BEGIN IMMEDIATE).
    if side == "provider" and engagement.offer_id is not None:
        offer = session.get(Offer, engagement.offer_id, with_for_update=True)
        assert offer is not None
        used = _committed_hours(session, others, Engagement.offer_id == offer.id, side=side)
        if used + engagement.hours > offer.hours + EPS:
            raise Conflict(
                f"L'offre « {offer.title} » n'a plus que {fmt(max(offer.hours - used, 0))} h "
                f"disponibles ; cet engagement en demande {fmt(engagement.hours)}.",
                f"The offer '{offer.title}' has only {fmt_en(max(offer.hours - used, 0))} h "
                f"left; this engagement needs {fmt_en(engagement.hours)} h.",
                {"offer_id": str(offer.id), "hours_left": round(max(offer.hours - used, 0), 2)})
        company = session.get(Organisation, offer.organisation_id, with_for_update=True)
        assert company is not None
        if company.agreement_hours is not None:
            used = _committed_hours(
                session, others,
                Engagement.provider_organisation_id == company.id, side=side)
            if used + engagement.hours > company.agreement_hours + EPS:
                left = max(company.agreement_hours - used, 0)
                raise Conflict(
                    f"Votre accord de mécénat ({fmt(company.agreement_hours)} h) n'a plus que "
                    f"{fmt(left)} h ; cet engagement en demande {fmt(engagement.hours)}.",
                    f"Your sponsorship agreement ({fmt_en(company.agreement_hours)} h) has only "
                    f"{fmt_en(left)} h left; this engagement needs "
                    f"{fmt_en(engagement.hours)} h.",
                    {"hours_left": round(left, 2)})
    if side == "project" and engagement.need_id is not None:
        need = session.get(ProjectNeed, engagement.need_id, with_for_update=True)
        if need is not None:
            used = _committed_hours(session, others, Engagement.need_id == need.id, side=side)
            if used + engagement.hours > need.hours + EPS:
                left = max(need.hours - used, 0)
                raise Conflict(
                    f"Le besoin « {need.skill} » n'attend plus que {fmt(left)} h ; cet "
                    f"engagement en apporte {fmt(engagement.hours)}.",
                    f"The need '{need.skill}' only waits for {fmt_en(left)} more h; this "
                    f"engagement brings {fmt_en(engagement.hours)} h.",
                    {"hours_left": round(left, 2)})


def decide(session: Session, *, actor: Actor, engagement_id: uuid.UUID,
           accept: bool) -> Engagement:
    """Accept or decline a proposed engagement on the caller's side."""
    side = _side(actor)
    engagement = _locked(session, actor, engagement_id)
    mine = engagement.provider_decision if side == "provider" else engagement.project_decision
    wanted = Decision.accepted if accept else Decision.declined
    if mine is wanted:
        return engagement  # answering twice the same way changes nothing
    if engagement.status is EngagementStatus.declined:
        raise Conflict("Cet engagement a été décliné : il ne peut plus être accepté.",
                       "This engagement was declined: it can no longer be accepted.")
    if engagement.status is not EngagementStatus.proposed or mine is not Decision.pending:
        raise Conflict("Votre réponse à cet engagement est déjà enregistrée.",
                       "Your answer to this engagement is already recorded.")
    if accept:
        _check_budgets(session, engagement, side)
    now = utcnow()
    if side == "provider":
        engagement.provider_decision, engagement.provider_decided_at = wanted, now
    else:
        engagement.project_decision, engagement.project_decided_at = wanted, now
    if not accept:
        engagement.status = EngagementStatus.declined
    elif Decision.pending not in (engagement.provider_decision, engagement.project_decision):
        engagement.status = EngagementStatus.accepted
    session.flush()
    return engagement


def logs_of(session: Session, engagement_id: uuid.UUID) -> list[HoursLog]:
    """The hours logged on an engagement, oldest first."""
    return list(session.scalars(select(HoursLog).where(HoursLog.engagement_id == engagement_id)
                                .order_by(HoursLog.worked_on, HoursLog.created_at)))


def log_hours(session: Session, *, actor: Actor, engagement_id: uuid.UUID, data: HoursIn,
              today: date | None = None) -> HoursLog:
    """The provider logs hours given on a day of an accepted engagement."""
    if _side(actor) != "provider":
        raise Forbidden()
    today = today or date.today()
    engagement = _locked(session, actor, engagement_id)
    if engagement.status not in (EngagementStatus.accepted, EngagementStatus.in_progress):
        raise Conflict(
            "Les heures se saisissent sur un engagement accepté des deux côtés et non terminé.",
            "Hours are logged on an engagement accepted by both sides and not completed.")
    if data.worked_on > today:
        raise InvalidInput("La date est dans le futur.", "The date is in the future.",
                           [{"field": "worked_on", "message": "Doit être passée ou aujourd'hui."}])
    if not engagement.starts_on <= data.worked_on <= engagement.ends_on:
        raise InvalidInput(
            f"La date doit être dans la période de l'engagement, du "
            f"{engagement.starts_on:%d/%m/%Y} au {engagement.ends_on:%d/%m/%Y}.",
            f"The date must be within the engagement, from {engagement.starts_on} to "
            f"{engagement.ends_on}.",
            [{"field": "worked_on", "message": "Hors de la période de l'engagement."}])
    logged = sum(log.hours for log in logs_of(session, engagement.id))
    if logged + data.hours > engagement.hours + EPS:
        left = max(engagement.hours - logged, 0)
        raise InvalidInput(
            f"Il ne reste que {fmt(left)} h à saisir sur les {fmt(engagement.hours)} h de cet "
            f"engagement.",
            f"Only {fmt_en(left)} h are left to log of this engagement's "
            f"{fmt_en(engagement.hours)} h.",
            [{"field": "hours", "message": f"Au plus {fmt(left)} h."}])
    log = HoursLog(engagement_id=engagement.id, logged_by=actor.user.id,
                   worked_on=data.worked_on, hours=data.hours, note=data.note)
    session.add(log)
    engagement.status = EngagementStatus.in_progress
    session.flush()
    return log


def approve_hours(session: Session, *, actor: Actor, engagement_id: uuid.UUID,
                  log_id: uuid.UUID) -> HoursLog:
    """The project side approves logged hours; all hours approved completes the engagement."""
    if _side(actor) != "project":
        raise Forbidden()
    engagement = _locked(session, actor, engagement_id)
    log = session.scalar(select(HoursLog).where(HoursLog.id == log_id,
                                                HoursLog.engagement_id == engagement.id))
    if log is None:
        raise NotFound(*HOURS)
    if log.approved_at is None:
        log.approved_at, log.approved_by = utcnow(), actor.user.id
        session.flush()
        approved = sum(x.hours for x in logs_of(session, engagement.id)
                       if x.approved_at is not None)
        if approved >= engagement.hours - EPS:
            engagement.status = EngagementStatus.completed
        session.flush()
    return log


# ---------------------------------------------------------------------------- views


def provider_names(session: Session, engagements: Iterable[Engagement]) -> dict[uuid.UUID, str]:
    """Display name of each engagement's provider: offer title and company, or volunteer."""
    items = list(engagements)
    offer_ids = {e.offer_id for e in items if e.offer_id}
    volunteer_ids = {e.volunteer_id for e in items if e.volunteer_id}
    offers = {o.id: (o.title, name) for o, name in session.execute(
        select(Offer, Organisation.name)
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .where(Offer.id.in_(offer_ids)))} if offer_ids else {}
    people: dict[uuid.UUID, str] = {v: n for v, n in session.execute(  # noqa: C416
        select(Volunteer.id, User.full_name).join(User, User.id == Volunteer.user_id)
        .where(Volunteer.id.in_(volunteer_ids)))} if volunteer_ids else {}
    out: dict[uuid.UUID, str] = {}
    for e in items:
        if e.offer_id is not None and e.offer_id in offers:
            title, company = offers[e.offer_id]
            out[e.id] = f"{company} — {title}"
        elif e.volunteer_id is not None:
            out[e.id] = people.get(e.volunteer_id, "")
    return out


def engagement_out(session: Session, engagement: Engagement, locale: str,
                   names: dict[uuid.UUID, str] | None = None) -> dict[str, Any]:
    """An engagement with its project, provider, reasons in `locale` and hours logged."""
    names = names if names is not None else provider_names(session, [engagement])
    project = session.get(Project, engagement.project_id)
    assert project is not None
    logs = logs_of(session, engagement.id)
    return {
        "id": engagement.id, "run_id": engagement.run_id, "offer_id": engagement.offer_id,
        "volunteer_id": engagement.volunteer_id, "provider": names.get(engagement.id, ""),
        "provider_kind": "offer" if engagement.offer_id else "volunteer",
        "project_id": project.id, "project": project.title,
        "neighbourhood_id": project.neighbourhood_id, "need_id": engagement.need_id,
        "skill": engagement.skill, "hours": engagement.hours,
        "starts_on": engagement.starts_on, "ends_on": engagement.ends_on,
        "distance_km": engagement.distance_km, "remote": engagement.remote,
        "reasons": localise(engagement.reasons, locale), "status": engagement.status,
        "provider_decision": engagement.provider_decision,
        "project_decision": engagement.project_decision,
        "hours_logged": round(sum(log.hours for log in logs), 2),
        "hours_approved": round(sum(log.hours for log in logs if log.approved_at), 2),
        "logs": [{"id": log.id, "worked_on": log.worked_on, "hours": log.hours,
                  "note": log.note, "approved": log.approved_at is not None} for log in logs],
    }


def project_engagements(session: Session, *, actor: Actor, project_id: uuid.UUID,
                        locale: str) -> list[dict[str, Any]]:
    """Who comes to a project, when, with which skill (its association; team coordinators)."""
    if actor.role in (Role.coordinator, Role.admin):
        project = get_from(session, select(Project).join(
            Organisation, Organisation.id == Project.organisation_id)
            .where(Organisation.territory_id == actor.territory_id), Project, project_id, PROJECT)
    else:
        actor.require(Role.association)
        project = get_owned(session, Project, project_id, actor, PROJECT)
    rows = list(session.scalars(
        select(Engagement).where(Engagement.project_id == project.id)
        .where(Engagement.status != EngagementStatus.declined)
        .order_by(Engagement.starts_on, Engagement.created_at, Engagement.id)))
    names = provider_names(session, rows)
    return [engagement_out(session, e, locale, names) for e in rows]


def company_report(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Hours given per project and neighbourhood, their value and the estimated tax reduction."""
    actor.require(Role.company)
    company = actor.organisation
    rows = session.execute(
        select(Engagement, Project.title, Neighbourhood.name)
        .join(Project, Project.id == Engagement.project_id)
        .join(Neighbourhood, Neighbourhood.id == Project.neighbourhood_id)
        .where(Engagement.provider_organisation_id == company.id)
        .where(Engagement.status.in_(COMMITTED))
        .order_by(Neighbourhood.name, Project.title, Engagement.id)
    ).all()
    groups: dict[tuple[uuid.UUID, str, str], dict[str, float]] = {}
    for engagement, title, hood in rows:
        g = groups.setdefault((engagement.project_id, title, hood),
                              {"hours_engaged": 0.0, "hours_logged": 0.0,
                               "hours_approved": 0.0})
        logs = logs_of(session, engagement.id)
        g["hours_engaged"] += engagement.hours
        g["hours_logged"] += sum(log.hours for log in logs)
        g["hours_approved"] += sum(log.hours for log in logs if log.approved_at)
    cost = company.hourly_cost

    def money(hours: float) -> float | None:
        return None if cost is None else round(hours * cost, 2)

    def tax(hours: float) -> float | None:
        value = money(hours)
        return None if value is None else round(TAX_REDUCTION_RATE * value, 2)

    lines: list[dict[str, Any]] = [{"project_id": pid, "project": title, "neighbourhood": hood,
              "hours_engaged": round(g["hours_engaged"], 2),
              "hours_logged": round(g["hours_logged"], 2),
              "hours_approved": round(g["hours_approved"], 2),
              "value": money(g["hours_approved"]), "tax_reduction": tax(g["hours_approved"])}
             for (pid, title, hood), g in groups.items()]
    approved = sum(line["hours_approved"] for line in lines)
    return {
        "company": company.name, "hourly_cost": cost,
        "agreement_hours": company.agreement_hours,
        "tax_reduction_rate": TAX_REDUCTION_RATE, "lines": lines,
        "hours_engaged": round(sum(line["hours_engaged"] for line in lines), 2),
        "hours_logged": round(sum(line["hours_logged"] for line in lines), 2),
        "hours_approved": round(approved, 2), "value": money(approved),
        "tax_reduction": tax(approved),
    }


REPORT_HEADERS = {
    "project": "Projet", "neighbourhood": "Quartier", "hours_engaged": "Heures engagées",
    "hours_logged": "Heures saisies", "hours_approved": "Heures validées",
    "value": "Valeur (€)", "tax_reduction": "Réduction d'impôt estimée (€)",
}


def hours_given_table(session: Session, *, actor: Actor) -> Table:
    """The company's hours given, as an export table (French headers, totals last)."""
    report = company_report(session, actor=actor)
    rows = [{REPORT_HEADERS[k]: line[k] for k in REPORT_HEADERS} for line in report["lines"]]
    rows.append({REPORT_HEADERS["project"]: "Total", REPORT_HEADERS["neighbourhood"]: "",
                 **{REPORT_HEADERS[k]: report[k] for k in
                    ("hours_engaged", "hours_logged", "hours_approved", "value",
                     "tax_reduction")}})
    return Table(name="heures-donnees",
                 frame=pd.DataFrame(rows, columns=list(REPORT_HEADERS.values())))

