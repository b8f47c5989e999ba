"""Benchmark contract: Solomon/VRPLIB readers, BKS conventions and `run_vrplib`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baskets.optimizer.routing import read_instance
from baskets.optimizer.routing.contract import evaluate_routes, run_vrplib
from baskets.scenario import ScenarioError

INSTANCES = Path(__file__).resolve().parents[3] / "shared" / "instances"
needs_instances = pytest.mark.skipif(
    not INSTANCES.is_dir(), reason="shared benchmark instances not present"
)

SMALL_SOLOMON = """tiny

VEHICLE
NUMBER     CAPACITY
  2          10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0        100          0
    1      3          4          4          0         50          1
    2      1          1          7         10         60          2.5
"""


def _bks_routes(sol: Path) -> list[list[int]]:
    return [
        [int(tok) for tok in line.split(":", 1)[1].split()]
        for line in sol.read_text(encoding="utf-8").splitlines()
        if line.startswith("Route")
    ]


def test_solomon_reader_scales_by_ten_and_truncates(tmp_path: Path) -> None:
    """Times x10; distance sqrt(2)=1.414.. truncates to 14 tenths, 5 stays 50."""
    path = tmp_path / "tiny.txt"
    path.write_text(SMALL_SOLOMON, encoding="utf-8")
    inst = read_instance(path)
    assert (inst.kind, inst.num_vehicles, inst.capacity, inst.scale) == ("vrptw", 2, 10, 10)
    assert inst.service == (0, 10, 25)
    assert inst.due == (1000, 500, 600)
    dist = inst.distance_matrix()
    assert dist[0, 1] == 50
    assert dist[0, 2] == 14
    assert dist[1, 2] == 36  # sqrt(13) = 3.605..


def test_tiny_solomon_solved_and_numbered_as_in_file(tmp_path: Path) -> None:
    """Two clients whose demands (4 + 7) exceed one vehicle need two routes."""
    path = tmp_path / "tiny.txt"
    path.write_text(SMALL_SOLOMON, encoding="utf-8")
    answer = run_vrplib(path, time_limit=0.5, seed=1)
    assert sorted(answer["routes"]) == [[1], [2]]
    assert answer["vehicles"] == 2
    assert answer["cost"] == pytest.approx(2 * 5.0 + 2 * 1.4)


@needs_instances
def test_solomon_c101_reader() -> None:
    """C101 has 100 clients, 25 vehicles of capacity 200 and service 90 (900 scaled)."""
    inst = read_instance(INSTANCES / "C101.txt")
    assert inst.num_clients == 100
    assert (inst.num_vehicles, inst.capacity) == (25, 200)
    assert inst.service[1] == 900
    assert inst.numbers == tuple(range(101))


@needs_instances
def test_vrplib_x_reader_reproduces_bks_cost() -> None:
    """The X-n101-k25 BKS routes cost exactly the published 27591 under TSPLIB rounding."""
    inst = read_instance(INSTANCES / "X-n101-k25.vrp")
    assert (inst.kind, inst.capacity, inst.num_clients) == ("cvrp", 206, 100)
    sol = INSTANCES / "X-n101-k25.sol"
    cost = int(re.search(r"Cost\s+(\d+)", sol.read_text(encoding="utf-8")).group(1))  # type: ignore[union-attr]
    # .sol numbers clients 1..n; with the depot first they are our node indices.
    assert evaluate_routes(inst, _bks_routes(sol)) == cost


@needs_instances
@pytest.mark.parametrize("name", ["RC101.txt", "X-n101-k25.vrp"])
def test_run_vrplib_answers_a_feasible_solution(name: str) -> None:
    """One short run gives routes covering every client once, within the BKS conventions."""
    answer = run_vrplib(INSTANCES / name, time_limit=1.0, seed=3)
    inst = read_instance(INSTANCES / name)
    routes = [[inst.numbers.index(c) for c in route] for route in answer["routes"]]
    assert evaluate_routes(inst, routes) / inst.scale == pytest.approx(answer["cost"])
    assert answer["vehicles"] == len(routes)
    assert answer["time_to_first_solution"] < 1.0


@needs_instances
def test_run_vrplib_with_a_work_limit_is_reproducible() -> None:
    """With an iteration limit reached before the time limit, two runs give the same answer."""
    runs = [
        run_vrplib(INSTANCES / "C201.txt", time_limit=30, seed=5, iterations=300) for _ in range(2)
    ]
    assert runs[0]["routes"] == runs[1]["routes"]
    assert runs[0]["cost"] == runs[1]["cost"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("x\n\nVEHICLE\nNUMBER CAPACITY\n 2 10\n\nCUSTOMER\n 0 0 0 0 0 100\n", "7 columns"),
        ("x\n\nCUSTOMER\n 0 0 0 0 0 100 0\n 1 1 1 1 0 10 0\n", "VEHICLE"),
        ("x\n\nVEHICLE\n 2 10\nCUSTOMER\n 0 0 0 0 0 100 0\n 1 1 1 1 20 10 0\n", "ready time"),
        (
            "NAME : a\nTYPE : CVRP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : GEO\nCAPACITY : 5\n"
            "NODE_COORD_SECTION\n1 0 0\n2 1 1\nDEMAND_SECTION\n1 0\n2 1\n"
            "DEPOT_SECTION\n1\n-1\nEOF\n",
            "EUC_2D",
        ),
        (
            "NAME : a\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 5\n"
            "NODE_COORD_SECTION\n1 0 0\n2 1 1\nDEMAND_SECTION\n1 0\n2 1\n"
            "DEPOT_SECTION\n1\n-1\nEOF\n",
            "nodes 1..3",
        ),
    ],
)
def test_bad_files_raise_precise_scenario_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    """A malformed file raises ScenarioError naming the problem."""
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScenarioError, match=message):
        read_instance(path)


def test_missing_file_raises_scenario_error(tmp_path: Path) -> None:
    """A missing file is a ScenarioError, not an OSError."""
    with pytest.raises(ScenarioError, match="no such file"):
        run_vrplib(tmp_path / "nope.vrp", time_limit=1, seed=1)


def test_cli_says_how_to_install_pyvrp_when_missing(tmp_path: Path) -> None:
    """Without PyVRP (an optional extra), `solve routes --vrplib` exits 2 naming the extra."""
    import os
    import subprocess
    import sys

    fake = tmp_path / "pyvrp"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('no PyVRP here')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-m", "baskets.cli", "solve", "routes", "--vrplib",
         str(tmp_path / "any.txt"), "--time-limit", "1"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert "pip install 'baskets[bench]'" in result.stderr
