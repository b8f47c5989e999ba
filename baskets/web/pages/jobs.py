"""The coordinators' jobs: start the week's allocation, follow its progress, list the jobs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from baskets.accounts.models import Role
from baskets.allocation import service as allocation
from baskets.api.deps import SessionDep, SettingsDep
from baskets.errors import Conflict, InvalidInput
from baskets.jobs import service as jobs
from baskets.jobs.models import TERMINAL, Job, JobStatus
from baskets.web.core import (
    FormDep,
    PageActorDep,
    PageRoute,
    flash,
    redirect,
    render,
    translator_for,
)
from baskets.web.i18n import N_, Translator

router = APIRouter(route_class=PageRoute, include_in_schema=False)

JOB_STATUS_NAMES = {
    JobStatus.queued: N_("en attente"),
    JobStatus.running: N_("en cours"),
    JobStatus.succeeded: N_("terminée"),
    JobStatus.failed: N_("échouée"),
    JobStatus.timed_out: N_("limite de temps atteinte"),
    JobStatus.cancelled: N_("annulée"),
}
KIND_NAMES = {
    "allocation": N_("Allocation de la semaine"),
    "rounds": N_("Planification des tournées"),
    "rounds.replan": N_("Re-planification des tournées"),
    "rounds.drivers": N_("Affectation des chauffeurs"),
    "engagements.matching": N_("Appariement des projets"),
}


def done_link(job: Job) -> tuple[str, str] | None:
    """Where the job's answer is shown, and the link's words."""
    week_id = job.params.get("week_id")
    if job.kind.startswith("rounds") and week_id:
        return f"/weeks/{week_id}#tournees", N_("Voir les tournées")
    if job.kind.startswith("engagements"):
        return "/matching", N_("Voir l'appariement")
    if week_id:
        return f"/weeks/{week_id}", N_("Retour à la semaine")
    return None


def job_summary(job: Job, t: Translator) -> str | None:
    """A finished job's answer in one line of the reader's language (None before)."""
    result = job.result or {}
    if job.status not in (JobStatus.succeeded, JobStatus.timed_out) or not result:
        return None
    metrics: dict[str, Any] = result.get("metrics") or {}
    if job.kind == "allocation":
        worst = t.number(100 * float(metrics.get("min_coverage", 0))) + " %"
        return t.gettext(
            "%(households)s foyers, couverture minimale %(worst)s, %(kg)s kg alloués.",
            households=t.number(metrics.get("households", 0)), worst=worst,
            kg=t.number(float(metrics.get("kg_allocated", 0))))
    if job.kind in ("rounds", "rounds.replan"):
        return t.gettext(
            "%(rounds)s tournées, %(km)s km, %(unserved)s étapes non desservies.",
            rounds=t.number(metrics.get("rounds", 0)),
            km=t.number(float(metrics.get("km", 0))),
            unserved=t.number(metrics.get("unserved", 0)))
    if job.kind == "rounds.drivers":
        return t.gettext(
            "%(assigned)s tournées confiées à un chauffeur bénévole, %(left)s sans chauffeur.",
            assigned=t.number(len(result.get("assignments") or [])),
            left=t.number(len(result.get("unassigned") or [])))
    if job.kind == "engagements.matching":
        return t.gettext(
            "%(n)s propositions, %(covered)s h couvertes sur %(needed)s h demandées.",
            n=t.number(int(result.get("assignments", 0))),
            covered=t.number(float(result.get("hours_covered", 0)), 1),
            needed=t.number(float(result.get("hours_needed", 0)), 1))
    return None


@router.post("/weeks/{week_id}/allocation")
def start_allocation(request: Request, week_id: uuid.UUID, form: FormDep, actor: PageActorDep,
                     session: SessionDep, settings: SettingsDep) -> Response:
    """Start the week's allocation as a job, then show its progress."""
    actor.require(Role.coordinator)
    t = translator_for(request)
    try:
        job = allocation.start_allocation(
            session, actor=actor, week_id=week_id,
            time_limit=settings.solver_time_limit_seconds, seed=settings.solver_seed)
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        response = redirect(f"/weeks/{week_id}")
        flash(request, response, exc.message(t.locale))
        return response
    return redirect(f"/jobs/{job.id}")


@router.get("/jobs")
def jobs_page(request: Request, actor: PageActorDep, session: SessionDep) -> Response:
    """The organisation's latest jobs with their state."""
    actor.require(Role.coordinator)
    listed = list(session.scalars(jobs.jobs_query(actor).limit(100)))
    return render(request, "coordinator/jobs.html", {
        "jobs": listed, "status_names": JOB_STATUS_NAMES, "kind_names": KIND_NAMES,
    })


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: uuid.UUID, actor: PageActorDep,
             session: SessionDep) -> Response:
    """One job: a progress bar the page's script keeps up to date."""
    actor.require(Role.coordinator)
    job = jobs.get_job(session, actor=actor, job_id=job_id)
    return render(request, "coordinator/job.html", {
        "summary": job_summary(job, translator_for(request)),
        "job": job, "status_names": JOB_STATUS_NAMES, "kind_names": KIND_NAMES,
        "done": job.status in TERMINAL, "done_link": done_link(job),
    })


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: uuid.UUID, actor: PageActorDep,
                 session: SessionDep) -> Response:
    """The job's state for the progress bar (JSON, read with the page's session cookie)."""
    actor.require(Role.coordinator)
    job = jobs.get_job(session, actor=actor, job_id=job_id)
    t = translator_for(request)
    return JSONResponse(_progress(job, t.gettext(JOB_STATUS_NAMES[job.status]),
                                  job_summary(job, t)))


def _progress(job: Job, status_name: str, summary: str | None) -> dict[str, Any]:
    return {"status": job.status.value, "status_name": status_name, "progress": job.progress,
            "summary": summary,
            # Job messages are written in French by the workers.
            "message": job.message, "error": job.error, "done": job.status in TERMINAL}
