"""The project-matching scenario contract: parsing errors and output shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from baskets.matching.scenario import parse_problem, run_scenario
from baskets.scenario import ScenarioError, read_json_file

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "solver" / "matching_small.json"


@pytest.fixture
def data() -> Any:
    return read_json_file(FIXTURE)


def test_fixture_solves_with_reasons_in_both_languages(data: Any) -> None:
    """The small fixture solves; every assignment and gap has English and French reasons."""
    out = run_scenario(data, time_limit=5, seed=1)
    assert set(out) == {"status", "assignments", "uncovered", "neighbourhoods", "metrics"}
    assert out["assignments"]
    for row in out["assignments"] + out["uncovered"]:
        assert row["reasons"]
        assert len(row["reasons"]) == len(row["reasons_fr"])
        assert row["reasons"] != row["reasons_fr"]
    json.dumps(out)  # plain JSON, nothing exotic


def test_fixture_respects_agreement(data: Any) -> None:
    """Banque Rhin's offer has 16 h but its agreement allows 14 h."""
    out = run_scenario(data, time_limit=5, seed=1)
    bank = sum(a["hours"] for a in out["assignments"] if a["provider"] == "offre-banque-1")
    assert bank <= 14


def test_negative_hours_message(data: Any) -> None:
    """A negative offer budget names its path and value."""
    data["offers"][1]["hours"] = -2
    with pytest.raises(ScenarioError, match=r"^offers\[1\]\.hours: must be > 0, got -2$"):
        parse_problem(data)


def test_missing_skill_message(data: Any) -> None:
    """A need without skill names the exact field."""
    del data["projects"][0]["needs"][1]["skill"]
    with pytest.raises(ScenarioError, match=r"^projects\[0\]\.needs\[1\]\.skill: missing field$"):
        parse_problem(data)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["projects"][0].__setitem__("window", [5, 1]),
         r"projects\[0\]\.window: start day 5 is after end day 1"),
        (lambda d: d["volunteers"][0].__setitem__("company", "X"),
         r"volunteers\[0\]\.company"),
        (lambda d: d["offers"][0]["skills"].__setitem__("web", "high"),
         r"offers\[0\]\.skills\.web: must be an integer"),
        (lambda d: d["volunteers"].append(copy.deepcopy(d["volunteers"][0])),
         r"volunteers\[2\]\.id: duplicate provider id"),
        (lambda d: d.__setitem__("fixed", [{"provider": "nobody", "project": "atelier-drouot",
                                            "skill": "soutien-scolaire", "hours": 2}]),
         r"fixed\[0\]\.provider: unknown provider"),
        (lambda d: d["projects"][1].__setitem__("lat", 123),
         r"projects\[1\]\.lat: must be within"),
        (lambda d: d.__setitem__("projects", {}), r"projects: must be a list"),
    ],
)
def test_bad_values_are_located(data: Any, mutate: Any, message: str) -> None:
    """Each malformed value raises ScenarioError naming where it is."""
    mutate(data)
    with pytest.raises(ScenarioError, match=message):
        parse_problem(data)


def test_fixed_rows_come_back_fixed(data: Any) -> None:
    """An accepted assignment in the scenario is returned unchanged with fixed=true."""
    data["fixed"] = [{"provider": "benevole-amina", "project": "atelier-drouot",
                      "skill": "soutien-scolaire", "hours": 3}]
    out = run_scenario(data, time_limit=5, seed=1)
    fixed = [a for a in out["assignments"] if a["fixed"]]
    assert [(a["provider"], a["hours"]) for a in fixed] == [("benevole-amina", 3)]


def test_fixture_fair_split_by_hand(data: Any) -> None:
    """By hand: Amina's 10 h all go to Drouot (her only option there); Banque Rhin's 14 h
    split 7.25/6.75 so Bourtzwiller (19.25/30) and Coteaux (12.75/20) both reach ~64%."""
    out = run_scenario(data, time_limit=5, seed=1)
    amina = {a["project"]: a["hours"] for a in out["assignments"]
             if a["provider"] == "benevole-amina"}
    assert amina == {"atelier-drouot": 10}
    assert min(out["neighbourhoods"].values()) == pytest.approx(0.6375, abs=1e-4)


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


def test_output_is_plain_json_types(data: Any) -> None:
    """No numpy scalars leak into the output (only str, int, float, bool, None, list, dict)."""
    assert _plain(run_scenario(data, time_limit=5, seed=1))


def test_no_providers_leaves_everything_uncovered() -> None:
    """Without providers every need is uncovered, with the reason that nobody has the skill."""
    out = run_scenario({"projects": [{"id": "p", "neighbourhood": "n", "lat": 47.7,
                                      "lon": 7.3, "window": [0, 9],
                                      "needs": [{"skill": "web", "hours": 3}]}]},
                       time_limit=1, seed=0)
    assert out["assignments"] == []
    assert out["uncovered"][0]["hours"] == 3
    assert out["uncovered"][0]["reasons"][0] == "Nobody offers the skill 'web'."
    assert out["metrics"]["lp_worst_share"] == 0
