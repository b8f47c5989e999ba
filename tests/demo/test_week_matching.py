"""The demo week's matching: one French line of figures per food team, figures stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.demo.loader import load_demo
from baskets.demo.week import _matching
from baskets.engagements.models import Engagement, MatchingRun


def test_demo_matching_prints_figures_and_stores_runs(session: Session) -> None:
    """Each team's line gives assignments, hours covered of needed and the worst share, and
    matches the stored run."""
    load_demo(session)
    lines = list(_matching(session, time_limit=10, seed=1))
    runs = list(session.scalars(select(MatchingRun)))
    assert len(lines) == len(runs) == 2
    for line in lines:
        found = re.search(r"(\d+) affectations, ([\d,]+) h couvertes sur ([\d,]+) h demandées, "
                          r"quartier le moins servi à (\d+) %", line)
        assert found, line
        assigned, covered, needed, worst = found.groups()
        run = next(r for r in runs if len(r.assignments) == int(assigned))
        assert float(covered.replace(",", ".")) == pytest.approx(run.hours_covered, abs=0.051)
        assert float(needed.replace(",", ".")) == pytest.approx(run.hours_needed, abs=0.051)
        assert int(worst) == round(100 * run.worst_share)
        assert 0 < run.hours_covered <= run.hours_needed
    stored = session.scalars(select(Engagement)).all()
    assert len(stored) == sum(len(r.assignments) for r in runs)
