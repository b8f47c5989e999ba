"""The project-matching scenario contract: JSON in, JSON out, precise errors.

Input (``baskets solve matching SCENARIO.json``)::

    {"projects": [{"id", "neighbourhood", "qpv", "lat", "lon", "remote_ok",
                   "window": [start_day, end_day], "needs": [{"skill", "hours", "min_level"}]}],
     "offers": [{"id", "company", "skills": {"skill": level}, "hours", "lat", "lon",
                 "remote_ok", "max_km", "window": [start_day, end_day], "min_chunk_hours"}],
     "volunteers": [same fields as offers, without "company"],
     "agreements": {"company": total_hours},            (optional)
     "fixed": [{"provider", "project", "skill", "hours", "need"?}]}   (optional)

Output: ``status``, ``assignments`` (provider, project, need, skill, hours, fixed, reasons in
English, reasons_fr in French), ``uncovered`` (project, need, skill, hours, reasons,
reasons_fr), ``neighbourhoods`` (share of needed hours covered) and ``metrics``.
"""

from __future__ import annotations

import math
from typing import Any

from baskets.matching.projects import (
    FixedAssignment,
    MatchingProblem,
    MatchingResult,
    Need,
    Project,
    Provider,
    check_problem,
    match_projects,
)
from baskets.matching.reasons import texts
from baskets.scenario import ScenarioError


def _field(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise ScenarioError(f"{where}.{key}: missing field")
    return obj[key]


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: must be a list, got {type(value).__name__}")
    return value


def _num(value: Any, where: str, *, positive: bool = False, nonneg: bool = False) -> float:
    # bool is an int subclass in Python; true/false as a number is a mistake in a scenario.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ScenarioError(f"{where}: must be finite, got {value!r}")
    if positive and v <= 0:
        raise ScenarioError(f"{where}: must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise ScenarioError(f"{where}: must be >= 0, got {value!r}")
    return v


def _int(value: Any, where: str, *, nonneg: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ScenarioError(f"{where}: must be an integer, got {value!r}")
    if nonneg and value < 0:
        raise ScenarioError(f"{where}: must be >= 0, got {value!r}")
    return int(value)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: must be a non-empty string, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: must be true or false, got {value!r}")
    return value


def _lat_lon(obj: dict[str, Any], where: str) -> tuple[float, float]:
    lat = _num(_field(obj, "lat", where), f"{where}.lat")
    lon = _num(_field(obj, "lon", where), f"{where}.lon")
    if not -90 <= lat <= 90:
        raise ScenarioError(f"{where}.lat: must be within [-90, 90], got {lat!r}")
    if not -180 <= lon <= 180:
        raise ScenarioError(f"{where}.lon: must be within [-180, 180], got {lon!r}")
    return lat, lon


def _window(obj: dict[str, Any], where: str) -> tuple[int, int]:
    w = _list(_field(obj, "window", where), f"{where}.window")
    if len(w) != 2:
        raise ScenarioError(f"{where}.window: must be [start_day, end_day], got {w!r}")
    a = _int(w[0], f"{where}.window[0]")
    b = _int(w[1], f"{where}.window[1]")
    if a > b:
        raise ScenarioError(f"{where}.window: start day {a} is after end day {b}")
    return a, b


def _project(raw: Any, where: str) -> Project:
    obj = _obj(raw, where)
    lat, lon = _lat_lon(obj, where)
    needs = []
    for k, rn in enumerate(_list(_field(obj, "needs", where), f"{where}.needs")):
        w = f"{where}.needs[{k}]"
        no = _obj(rn, w)
        needs.append(Need(
            skill=_str(_field(no, "skill", w), f"{w}.skill"),
            hours=_num(_field(no, "hours", w), f"{w}.hours", positive=True),
            min_level=_int(no.get("min_level", 1), f"{w}.min_level", nonneg=True),
        ))
    return Project(
        id=_str(_field(obj, "id", where), f"{where}.id"),
        neighbourhood=_str(_field(obj, "neighbourhood", where), f"{where}.neighbourhood"),
        qpv=_bool(obj.get("qpv", True), f"{where}.qpv"),
        lat=lat, lon=lon,
        remote_ok=_bool(obj.get("remote_ok", False), f"{where}.remote_ok"),
        window=_window(obj, where),
        needs=tuple(needs),
    )


def _provider(raw: Any, where: str, *, offer: bool) -> Provider:
    obj = _obj(raw, where)
    lat, lon = _lat_lon(obj, where)
    skills_raw = _obj(_field(obj, "skills", where), f"{where}.skills")
    skills = {}
    for s, lv in skills_raw.items():
        skills[_str(s, f"{where}.skills key")] = _int(lv, f"{where}.skills.{s}", nonneg=True)
    company = None
    if offer:
        company = _str(_field(obj, "company", where), f"{where}.company")
    elif "company" in obj:
        raise ScenarioError(f"{where}.company: volunteers have no company (use offers)")
    return Provider(
        id=_str(_field(obj, "id", where), f"{where}.id"),
        skills=skills,
        hours=_num(_field(obj, "hours", where), f"{where}.hours", positive=True),
        lat=lat, lon=lon,
        window=_window(obj, where),
        max_km=_num(_field(obj, "max_km", where), f"{where}.max_km", nonneg=True),
        min_chunk_hours=_num(obj.get("min_chunk_hours", 0.0), f"{where}.min_chunk_hours",
                             nonneg=True),
        remote_ok=_bool(obj.get("remote_ok", False), f"{where}.remote_ok"),
        company=company,
    )


def parse_problem(data: Any) -> MatchingProblem:
    """Validate a scenario's parsed JSON and return the `MatchingProblem`.

    Raises
    ------
    ScenarioError
        With the JSON path of the first bad value, e.g. ``offers[3].hours: must be > 0, got -2``.
    """
    root = _obj(data, "scenario")
    projects = tuple(_project(p, f"projects[{j}]")
                     for j, p in enumerate(_list(_field(root, "projects", "scenario"),
                                                 "projects")))
    providers = [_provider(p, f"offers[{i}]", offer=True)
                 for i, p in enumerate(_list(root.get("offers", []), "offers"))]
    providers += [_provider(p, f"volunteers[{i}]", offer=False)
                  for i, p in enumerate(_list(root.get("volunteers", []), "volunteers"))]
    seen: dict[str, str] = {}
    for j, pr in enumerate(projects):
        if pr.id in seen:
            raise ScenarioError(f"projects[{j}].id: duplicate id {pr.id!r}")
        seen[pr.id] = "project"
    pseen: set[str] = set()
    n_offers = len(_list(root.get("offers", []), "offers"))
    for i, pv in enumerate(providers):
        where = f"offers[{i}]" if i < n_offers else f"volunteers[{i - n_offers}]"
        if pv.id in pseen:
            raise ScenarioError(f"{where}.id: duplicate provider id {pv.id!r}")
        pseen.add(pv.id)
    agreements: dict[str, float] = {}
    for c, h in _obj(root.get("agreements", {}), "agreements").items():
        agreements[c] = _num(h, f"agreements.{c}", nonneg=True)
    fixed = []
    for f_i, rf in enumerate(_list(root.get("fixed", []), "fixed")):
        w = f"fixed[{f_i}]"
        fo = _obj(rf, w)
        need = fo.get("need")
        fixed.append(FixedAssignment(
            provider=_str(_field(fo, "provider", w), f"{w}.provider"),
            project=_str(_field(fo, "project", w), f"{w}.project"),
            skill=_str(_field(fo, "skill", w), f"{w}.skill"),
            hours=_num(_field(fo, "hours", w), f"{w}.hours", positive=True),
            need=None if need is None else _int(need, f"{w}.need", nonneg=True),
        ))
    problem = MatchingProblem(projects, tuple(providers), agreements, tuple(fixed))
    try:
        # Cross-references (unknown provider/project/need in `fixed`) are checked by the
        # solver itself; surface them as scenario errors with the same path.
        check_problem(problem)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc
    return problem


def result_to_json(result: MatchingResult) -> dict[str, Any]:
    """Render a `MatchingResult` as the contract's output object."""
    return {
        "status": result.status,
        "assignments": [
            {"provider": a.provider, "project": a.project, "need": a.need, "skill": a.skill,
             "hours": a.hours, "fixed": a.fixed, "reasons": texts(a.reasons, "en"),
             "reasons_fr": texts(a.reasons, "fr")}
            for a in result.assignments
        ],
        "uncovered": [
            {"project": u.project, "need": u.need, "skill": u.skill, "hours": u.hours,
             "reasons": texts(u.reasons, "en"), "reasons_fr": texts(u.reasons, "fr")}
            for u in result.uncovered
        ],
        "neighbourhoods": {h: round(s, 4) for h, s in result.neighbourhood_share.items()},
        "metrics": dict(result.metrics),
    }


def run_scenario(data: Any, *, time_limit: float, seed: int) -> dict[str, Any]:
    """Solve a project-matching scenario (parsed JSON) and return the contract's output.

    Parameters
    ----------
    data
        The parsed JSON of the scenario file.
    time_limit
        Seconds for the LP stages.
    seed
        Solver seed.

    Returns
    -------
    dict
        ``{"status", "assignments", "uncovered", "neighbourhoods", "metrics"}``; ``reasons``
        are English, ``reasons_fr`` French.

    Raises
    ------
    ScenarioError
        When the scenario is malformed (the message names the JSON path).
    """
    problem = parse_problem(data)
    return result_to_json(match_projects(problem, time_limit=time_limit, seed=seed))
