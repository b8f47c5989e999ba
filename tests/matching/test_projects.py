"""Project matching: hand-checkable cases and hypothesis properties."""

from __future__ import annotations

from collections import defaultdict

import pytest
from geopy.distance import great_circle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baskets.matching.projects import (
    FixedAssignment,
    MatchingProblem,
    MatchingResult,
    Need,
    Project,
    Provider,
    match_projects,
)

MULHOUSE = (47.75, 7.34)


def project(pid: str, hood: str = "Q1", *, needs: tuple[Need, ...] = (Need("web", 10, 2),),
            lat: float = MULHOUSE[0], lon: float = MULHOUSE[1], window: tuple[int, int] = (0, 30),
            remote_ok: bool = False) -> Project:
    return Project(pid, hood, lat, lon, window, needs, remote_ok=remote_ok)


def provider(pid: str, *, skills: dict[str, int] | None = None, hours: float = 10,
             lat: float = MULHOUSE[0], lon: float = MULHOUSE[1], window: tuple[int, int] = (0, 30),
             max_km: float = 10, chunk: float = 0, remote_ok: bool = False,
             company: str | None = None) -> Provider:
    return Provider(pid, skills if skills is not None else {"web": 3}, hours, lat, lon, window,
                    max_km, chunk, remote_ok, company)


def solve(problem: MatchingProblem) -> MatchingResult:
    return match_projects(problem, time_limit=10, seed=1)


def codes(reasons: tuple[object, ...]) -> set[str]:
    return {r.code for r in reasons}  # type: ignore[attr-defined]


def test_single_pair_gets_all_it_can() -> None:
    """One provider with 6 h and one 10 h need: 6 h assigned, 4 h uncovered."""
    res = solve(MatchingProblem((project("P"),), (provider("A", hours=6),)))
    assert [(a.provider, a.project, a.hours) for a in res.assignments] == [("A", "P", 6)]
    assert [(u.project, u.hours) for u in res.uncovered] == [("P", 4)]


def test_level_too_low_is_explained() -> None:
    """A provider below the minimum level is not used and the need says why."""
    res = solve(MatchingProblem((project("P", needs=(Need("web", 5, 4),)),),
                                (provider("A", skills={"web": 3}),)))
    assert res.assignments == ()
    assert "no_level" in codes(res.uncovered[0].reasons)


def test_unknown_skill_is_explained() -> None:
    """Nobody with the skill: uncovered with reason no_skill."""
    res = solve(MatchingProblem((project("P", needs=(Need("legal", 5, 1),)),),
                                (provider("A"),)))
    assert "no_skill" in codes(res.uncovered[0].reasons)


def test_far_provider_unused_unless_both_remote() -> None:
    """0.5 degree away (~55 km) with a 10 km limit: only both-remote makes it eligible."""
    far = {"lat": MULHOUSE[0] + 0.5}
    res = solve(MatchingProblem((project("P"),), (provider("A", **far),)))
    assert res.assignments == ()
    assert "no_reach" in codes(res.uncovered[0].reasons)
    res = solve(MatchingProblem((project("P", remote_ok=True),),
                                (provider("A", remote_ok=True, **far),)))
    assert res.assignments[0].hours == 10
    assert "remote" in codes(res.assignments[0].reasons)


def test_disjoint_windows_are_explained() -> None:
    """Provider free days 40-60, project days 0-30: no assignment, reason no_dates."""
    res = solve(MatchingProblem((project("P"),), (provider("A", window=(40, 60)),)))
    assert res.assignments == ()
    assert "no_dates" in codes(res.uncovered[0].reasons)


def test_company_agreement_caps_all_its_offers() -> None:
    """Two 10 h offers of one company with a 12 h agreement give 12 h in total."""
    pb = MatchingProblem(
        (project("P", needs=(Need("web", 30, 1),)),),
        (provider("O1", company="C"), provider("O2", company="C")), agreements={"C": 12})
    res = solve(pb)
    assert sum(a.hours for a in res.assignments) == pytest.approx(12)
    assert all("agreement" in codes(a.reasons) for a in res.assignments)


def test_chunk_larger_than_need_is_not_used() -> None:
    """A 3 h need cannot take a provider whose minimum chunk is 5 h (no over-filling)."""
    res = solve(MatchingProblem((project("P", needs=(Need("web", 3, 1),)),),
                                (provider("A", chunk=5),)))
    assert res.assignments == ()
    assert "below_chunk" in codes(res.uncovered[0].reasons)


def test_max_min_splits_scarce_hours_between_neighbourhoods() -> None:
    """10 h for two neighbourhoods each needing 10 h: 5 h each, not 10 h to one."""
    pb = MatchingProblem((project("P1", "Q1"), project("P2", "Q2")), (provider("A"),))
    res = solve(pb)
    got = {a.project: a.hours for a in res.assignments}
    assert got == {"P1": 5, "P2": 5}
    assert res.neighbourhood_share == {"Q1": 0.5, "Q2": 0.5}


def test_fairness_then_hours() -> None:
    """Q2 can only be served by A; B serves Q1: the worst share is 1 in both."""
    pb = MatchingProblem(
        (project("P1", "Q1"), project("P2", "Q2", needs=(Need("legal", 10, 1),))),
        (provider("A", skills={"web": 3, "legal": 3}), provider("B")))
    res = solve(pb)
    assert res.neighbourhood_share == {"Q1": 1.0, "Q2": 1.0}
    assert {(a.provider, a.project) for a in res.assignments} == {("A", "P2"), ("B", "P1")}


def test_fixed_assignment_stays_and_uses_budgets() -> None:
    """An accepted 4 h assignment is kept as is and only 6 h of A's 10 h remain."""
    pb = MatchingProblem((project("P1", "Q1"), project("P2", "Q2")), (provider("A"),),
                         fixed=(FixedAssignment("A", "P1", "web", 4),))
    res = solve(pb)
    fixed = [a for a in res.assignments if a.fixed]
    assert [(a.provider, a.project, a.hours) for a in fixed] == [("A", "P1", 4)]
    assert sum(a.hours for a in res.assignments) == pytest.approx(10)
    assert "fixed" in codes(fixed[0].reasons)


def test_fixed_assignment_unknown_provider_rejected() -> None:
    """A fixed assignment naming an unknown provider is an input error."""
    pb = MatchingProblem((project("P"),), (provider("A"),),
                         fixed=(FixedAssignment("Z", "P", "web", 4),))
    with pytest.raises(ValueError, match=r"fixed\[0\]\.provider"):
        solve(pb)


def test_reasons_in_both_languages() -> None:
    """Every reason has distinct non-empty French and English texts."""
    res = solve(MatchingProblem((project("P1"), project("P2", needs=(Need("x", 2, 1),))),
                                (provider("A", company="C"),), agreements={"C": 8}))
    reasons = [r for a in res.assignments for r in a.reasons]
    reasons += [r for u in res.uncovered for r in u.reasons]
    assert {"skill", "distance", "dates", "budget", "agreement"} <= {r.code for r in reasons}
    for r in reasons:
        assert r.fr
        assert r.en
        assert r.fr != r.en
        assert r.text("fr") == r.fr
        assert r.text("en") == r.en


def test_unsupported_locale_rejected() -> None:
    """Only 'fr' and 'en' are accepted."""
    with pytest.raises(ValueError, match="locale"):
        match_projects(MatchingProblem((), ()), time_limit=1, seed=0, locale="de")


# ------------------------------------------------------------------------------- properties

SKILLS = ["web", "legal", "food"]


@st.composite
def problems(draw: st.DrawFn) -> MatchingProblem:
    n_proj = draw(st.integers(1, 6))
    n_prov = draw(st.integers(1, 6))
    coord = st.tuples(st.floats(47.70, 47.80), st.floats(7.30, 7.40))
    window = st.integers(0, 20).flatmap(lambda a: st.tuples(st.just(a), st.integers(a, a + 20)))
    projects = []
    for j in range(n_proj):
        la, lo = draw(coord)
        needs = tuple(Need(draw(st.sampled_from(SKILLS)), float(draw(st.integers(1, 12))),
                           draw(st.integers(1, 4))) for _ in range(draw(st.integers(1, 2))))
        projects.append(Project(f"P{j}", draw(st.sampled_from(["Q1", "Q2", "Q3"])), la, lo,
                                draw(window), needs, remote_ok=draw(st.booleans())))
    providers = []
    for i in range(n_prov):
        la, lo = draw(coord)
        skills = {s: draw(st.integers(1, 5)) for s in draw(st.sets(st.sampled_from(SKILLS),
                                                                    min_size=1))}
        providers.append(Provider(
            f"V{i}", skills, float(draw(st.integers(1, 15))), la, lo, draw(window),
            float(draw(st.integers(0, 8))), float(draw(st.integers(0, 5))),
            draw(st.booleans()), draw(st.sampled_from([None, "C1", "C2"]))))
    agreements = {c: float(draw(st.integers(0, 20))) for c in ("C1", "C2")
                  if draw(st.booleans())}
    return MatchingProblem(tuple(projects), tuple(providers), agreements)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_properties_hold(pb: MatchingProblem) -> None:
    """Budgets, agreements, chunks, needs and eligibility hold; every decision has reasons."""
    res = solve(pb)
    provs = {p.id: p for p in pb.providers}
    projs = {p.id: p for p in pb.projects}
    per_p: dict[str, float] = defaultdict(float)
    per_c: dict[str, float] = defaultdict(float)
    per_n: dict[tuple[str, int], float] = defaultdict(float)
    for a in res.assignments:
        pv, pr = provs[a.provider], projs[a.project]
        nd = pr.needs[a.need]
        assert a.hours > 0
        assert a.hours >= pv.min_chunk_hours - 1e-9
        assert pv.skills.get(nd.skill, -1) >= nd.min_level
        assert pv.window[0] <= pr.window[1]
        assert pr.window[0] <= pv.window[1]
        d = great_circle((pv.lat, pv.lon), (pr.lat, pr.lon)).km
        assert d <= pv.max_km or (pv.remote_ok and pr.remote_ok)
        assert a.reasons
        assert all(r.fr and r.en for r in a.reasons)
        per_p[pv.id] += a.hours
        per_n[(pr.id, a.need)] += a.hours
        if pv.company is not None:
            per_c[pv.company] += a.hours
    for p, h in per_p.items():
        assert h <= provs[p].hours + 1e-6
    for c, h in per_c.items():
        assert c not in pb.agreements or h <= pb.agreements[c] + 1e-6
    for (j, k), h in per_n.items():
        assert h <= projs[j].needs[k].hours + 1e-6
    for u in res.uncovered:
        assert u.hours > 0
        assert u.reasons
        assert all(r.fr and r.en for r in u.reasons)
    total = sum(nd.hours for p in pb.projects for nd in p.needs)
    covered = sum(a.hours for a in res.assignments) + sum(u.hours for u in res.uncovered)
    assert covered == pytest.approx(total, abs=0.01 * (1 + len(res.uncovered)))


@settings(max_examples=20, deadline=None)
@given(problems(), st.data())
def test_fixed_assignments_stay(pb: MatchingProblem, data: st.DataObject) -> None:
    """Re-solving with some earlier assignments fixed keeps them exactly."""
    first = solve(pb)
    if not first.assignments:
        return
    keep = data.draw(st.lists(st.sampled_from(first.assignments), unique=True, max_size=3))
    fixed = tuple(FixedAssignment(a.provider, a.project, a.skill, a.hours, a.need)
                  for a in keep)
    again = solve(MatchingProblem(pb.projects, pb.providers, pb.agreements, fixed))
    got = sorted((a.provider, a.project, a.need, a.hours) for a in again.assignments if a.fixed)
    assert got == sorted((f.provider, f.project, f.need, f.hours) for f in fixed)


@settings(max_examples=25, deadline=None)
@given(problems())
def test_fallback_when_lp_runs_out_of_time_keeps_rules(pb: MatchingProblem) -> None:
    """If the LP never finishes, the greedy fill alone still respects every rule."""
    import baskets.matching.projects as mod

    original = mod._solve_stage
    mod._solve_stage = lambda lp, deadline: False
    try:
        res = solve(pb)
    finally:
        mod._solve_stage = original
    assert res.status in {"fallback", "empty"}
    provs = {p.id: p for p in pb.providers}
    per_p: dict[str, float] = defaultdict(float)
    per_n: dict[tuple[str, int], float] = defaultdict(float)
    per_c: dict[str, float] = defaultdict(float)
    for a in res.assignments:
        pv = provs[a.provider]
        assert a.hours >= pv.min_chunk_hours - 1e-9
        per_p[a.provider] += a.hours
        per_n[(a.project, a.need)] += a.hours
        if pv.company is not None:
            per_c[pv.company] += a.hours
    assert all(h <= provs[p].hours + 1e-6 for p, h in per_p.items())
    projs = {p.id: p for p in pb.projects}
    assert all(h <= projs[j].needs[k].hours + 1e-6 for (j, k), h in per_n.items())
    assert all(h <= pb.agreements.get(c, h) + 1e-6 for c, h in per_c.items())
