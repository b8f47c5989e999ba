"""The `baskets` command: database, fixtures, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "baskets.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120, check=False)


def test_db_upgrade_and_fixtures_load_are_repeatable(tmp_path: Path) -> None:
    """`db upgrade` then `fixtures load` twice: the second load changes nothing."""
    env = {"BASKETS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    assert run("db", "upgrade", env=env).returncode == 0
    first = run("fixtures", "load", env=env)
    assert first.returncode == 0, first.stderr
    assert '"households"' in first.stdout
    second = run("fixtures", "load", env=env)
    assert "déjà chargées" in second.stdout


def test_demo_prepares_without_serving(tmp_path: Path) -> None:
    """`baskets demo --no-serve` migrates and loads the embedded database."""
    env = {"BASKETS_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    result = run("demo", "--no-serve", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo.sqlite3").stat().st_size > 100_000


SCENARIO = """{"policy": {"kg_per_consumption_unit": 4.0, "max_coverage": 1.25,
                          "min_category_share": {"vegetable": 0.4}, "max_product_share": 0.6},
             "points": [{"id": "P1", "lat": 43.3, "lon": 5.4}],
             "lots": [{"id": "L1", "product": "poireaux", "category": "vegetable",
                       "quantity_kg": 10, "unit_kg": null, "shelf_life_days": 10,
                       "lat": 43.8, "lon": 4.8},
                      {"id": "L2", "product": "pommes", "category": "fruit",
                       "quantity_kg": 6, "unit_kg": null, "shelf_life_days": 30,
                       "lat": 43.8, "lon": 4.8}],
             "households": [{"id": "H1", "point": "P1", "adults": 1, "children": 0,
                             "excluded_products": [], "excluded_categories": []},
                            {"id": "H2", "point": "P1", "adults": 2, "children": 2,
                             "excluded_products": [], "excluded_categories": []}]}"""


def test_solve_allocation_prints_json(tmp_path: Path) -> None:
    """`solve allocation` prints the contract's JSON for a valid scenario."""
    import json

    scenario = tmp_path / "s.json"
    scenario.write_text(SCENARIO)
    result = run("solve", "allocation", str(scenario), "--time-limit", "5", "--seed", "3",
                 env={})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] in ("optimal", "feasible")
    assert {b["household"] for b in answer["baskets"]} == {"H1", "H2"}
    given = sum(item["kg"] for b in answer["baskets"] for item in b["items"])
    assert given <= 16 + 1e-6


def test_solve_allocation_bad_file_exits_2(tmp_path: Path) -> None:
    """An unknown point, and broken JSON, each exit with code 2 and a precise message."""
    unknown = tmp_path / "u.json"
    unknown.write_text(SCENARIO.replace('"point": "P1", "adults": 1', '"point": "P9", "adults": 1'))
    broken = tmp_path / "b.json"
    broken.write_text("{not json")
    first = run("solve", "allocation", str(unknown), env={})
    second = run("solve", "allocation", str(broken), env={})
    assert first.returncode == second.returncode == 2
    assert "P9" in first.stderr
    assert "line 1" in second.stderr


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "solver"
SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  3         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME
    0      0          0          0          0        1000          0
    1      3          4          4          0        1000          0
    2      6          8          4          0        1000          0
    3     -3         -4          5          0        1000          0
"""


def test_solve_routes_scenario_prints_the_rounds() -> None:
    """`solve routes` on the Marseille scenario prints routes, each stop served once or
    reported unserved."""
    import json

    scenario = FIXTURES / "routing_marseille.json"
    result = run("solve", "routes", str(scenario), "--time-limit", "2", "--seed", "1", env={})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    stops = {s["id"] for s in json.loads(scenario.read_text())["stops"]}
    seen = [s["for_stop"] or s["stop_id"] for r in answer["routes"] for s in r["stops"]
            if s["kind"] in ("pickup", "delivery")]
    hub_seen = {s["for_stop"] for r in answer["routes"] for s in r["stops"]
                if s["kind"] not in ("pickup", "delivery")}
    served = set(seen) | hub_seen
    assert len(seen) == len(set(seen))
    assert served | {u["stop_id"] for u in answer["unserved"]} == stops
    assert answer["status"] in ("all_served", "partial")


def test_solve_routes_vrplib_prints_cost_and_routes(tmp_path: Path) -> None:
    """`solve routes --vrplib` on a hand-checkable Solomon file: every client once, cost is the
    length of the routes (x10, truncated, as in the BKS conventions)."""
    import json

    instance = tmp_path / "tiny.txt"
    instance.write_text(SOLOMON)
    result = run("solve", "routes", "--vrplib", str(instance), "--time-limit", "1", env={})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert sorted(c for r in answer["routes"] for c in r) == [1, 2, 3]
    # capacity 10: {1, 2} (load 8) out 10 and back 10, {3} out 5 and back 5 -> 30.
    assert answer["cost"] == 30.0
    assert answer["vehicles"] == 2


def test_solve_routes_bad_input_exits_2(tmp_path: Path) -> None:
    """A scenario with a missing field, an unknown file, and no argument at all exit with 2."""
    broken = tmp_path / "r.json"
    broken.write_text('{"stops": [], "vehicles": [{"id": "v"}]}')
    first = run("solve", "routes", str(broken), env={})
    second = run("solve", "routes", "--vrplib", str(tmp_path / "none.txt"), env={})
    third = run("solve", "routes", env={})
    assert first.returncode == second.returncode == third.returncode == 2
    assert "v" in first.stderr
    assert "none.txt" in second.stderr
    assert "exactly one" in third.stderr


MATCHING = Path(__file__).resolve().parents[1] / "fixtures" / "solver" / "matching_small.json"


def test_solve_matching_prints_json() -> None:
    """`solve matching` prints the contract's JSON: assignments within offers' hours, reasons."""
    import json

    result = run("solve", "matching", str(MATCHING), "--time-limit", "5", "--seed", "2", env={})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    scenario = json.loads(MATCHING.read_text())
    hours = {p["id"]: p["hours"] for p in scenario["offers"] + scenario["volunteers"]}
    assert answer["assignments"]
    given: dict[str, float] = {}
    for a in answer["assignments"]:
        assert a["reasons"]
        assert a["reasons_fr"]
        given[a["provider"]] = given.get(a["provider"], 0.0) + a["hours"]
    assert all(given[p] <= hours[p] + 1e-6 for p in given)


def test_solve_matching_bad_file_exits_2(tmp_path: Path) -> None:
    """Negative hours in an offer exit with code 2 and a message naming the field."""
    import json

    scenario = json.loads(MATCHING.read_text())
    scenario["offers"][0]["hours"] = -3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(scenario))
    result = run("solve", "matching", str(bad), env={})
    assert result.returncode == 2
    assert "offers[0].hours" in result.stderr
