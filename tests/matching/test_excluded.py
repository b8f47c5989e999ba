"""Declined (provider, project) pairs are never proposed again."""

from __future__ import annotations

from baskets.matching.projects import MatchingProblem, Need, Project, Provider, match_projects


def _problem(excluded: frozenset[tuple[str, str]] = frozenset()) -> MatchingProblem:
    project = Project("P", "Nord", 43.3, 5.4, (0, 30), (Need("web", 10, 2),))
    near = Provider("near", {"web": 4}, 10, 43.3, 5.4, (0, 30), 20, 2)
    far = Provider("far", {"web": 3}, 10, 43.35, 5.45, (0, 30), 20, 2)
    return MatchingProblem((project,), (near, far), excluded=excluded)


def test_excluded_pair_is_not_proposed() -> None:
    """Without exclusion the nearest, best provider takes the need; excluded, the other does."""
    before = match_projects(_problem(), time_limit=5, seed=1)
    assert {a.provider for a in before.assignments} == {"near"}
    after = match_projects(_problem(frozenset({("near", "P")})), time_limit=5, seed=1)
    assert {a.provider for a in after.assignments} == {"far"}
    assert sum(a.hours for a in after.assignments) == 10
