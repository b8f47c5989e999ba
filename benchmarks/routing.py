"""Routing benchmarks, in two sections.

``rounds``: the product path (`solve_rounds`: VROOM construction, OR-Tools polish of the full
model) against VROOM and PyVRP on generated product-shaped days (see `routing_rounds.py`).

``vrplib``: the benchmark contract on Solomon VRPTW / VRPLIB CVRP files, which is NOT the
product path: `baskets.optimizer.routing.contract.solve_instance` (PyVRP start + OR-Tools
guided local search) against the best-known solutions (BKS) and a plain PyVRP run with the
same budget and seed on every instance of the shared benchmark folder, plus one generated
1,000-client VRPTW instance (Gehring-Homberger R1-like, no BKS), one after the other on one
thread. Prints per instance: cost, gap to BKS, gap to PyVRP, time to first solution,
vehicles; then the means per set. Needs the ``bench`` extra (PyVRP).

Usage::

    PYTHONPATH=. python benchmarks/routing.py rounds --sizes 80,200 --time-limit 30
    PYTHONPATH=. python benchmarks/routing.py vrplib --time-limit 10 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyvrp
import pyvrp.stop

from baskets.optimizer.routing.contract import (
    evaluate_routes,
    pyvrp_routes,
    solve_instance,
    to_pyvrp_data,
)
from baskets.optimizer.routing.vrplib import VrpInstance, read_instance
from baskets.scenario import ScenarioError

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "instances"


@dataclass
class Row:
    name: str
    group: str
    size: int
    cost: float
    bks: float | None
    pyvrp: float
    first: float
    vehicles: int
    pyvrp_vehicles: int
    runtime: float

    @property
    def gap_bks(self) -> float | None:
        return None if self.bks is None else 100 * (self.cost - self.bks) / self.bks

    @property
    def gap_pyvrp(self) -> float:
        return 100 * (self.cost - self.pyvrp) / self.pyvrp


def generate_r1(path: Path, clients: int, seed: int) -> None:
    """Write a random Gehring-Homberger R1-like VRPTW instance in Solomon format."""
    rng = random.Random(seed)
    side = 500 if clients >= 600 else 100
    horizon = 2 * side + 800
    depot = (side // 2, side // 2)
    lines = [
        f"gen_r1_{clients}",
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"  {clients // 4}          200",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.    YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE TIME",
        "",
        f"    0 {depot[0]} {depot[1]} 0 0 {horizon} 0",
    ]
    for i in range(1, clients + 1):
        x, y = rng.randint(0, side), rng.randint(0, side)
        reach = int(((x - depot[0]) ** 2 + (y - depot[1]) ** 2) ** 0.5) + 1
        latest = horizon - reach - 10
        centre = rng.randint(reach, latest)
        half = rng.randint(15, 60)
        ready, due = max(0, centre - half), min(latest, centre + half)
        lines.append(f"{i} {x} {y} {rng.randint(1, 50)} {ready} {due} 10")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pyvrp_version() -> str:
    from importlib.metadata import version

    return version("pyvrp")


def load_bks(folder: Path) -> dict[str, float]:
    """BKS costs keyed by upper-case instance name (DIMACS json and CVRPLIB .sol files)."""
    bks: dict[str, float] = {}
    dimacs = folder / "dimacs_bks.json"
    if dimacs.exists():
        for name, entry in json.loads(dimacs.read_text(encoding="utf-8")).items():
            bks[name.upper()] = float(entry["cost"])
    for sol in folder.glob("*.sol"):
        match = re.search(r"^Cost\s+([\d.]+)", sol.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            bks[sol.stem.upper()] = float(match.group(1))
    return bks


def group_of(name: str, size: int) -> str:
    if name.upper().startswith("X-"):
        return "X"
    if name.startswith("gen_"):
        return "generated"
    return "Solomon" if size <= 100 else "GH"


def run_pyvrp(instance: VrpInstance, time_limit: float, seed: int) -> tuple[int, int]:
    data = to_pyvrp_data(instance)
    result = pyvrp.solve(data, pyvrp.stop.MaxRuntime(time_limit), seed=seed, collect_stats=False)
    routes = pyvrp_routes(data, result.best)
    return evaluate_routes(instance, routes), len(routes)


def bench(
    path: Path, bks: dict[str, float], time_limit: float, seed: int, share: float | None
) -> Row:
    instance = read_instance(path)
    started = time.perf_counter()
    if share is None:
        ours = solve_instance(instance, time_limit=time_limit, seed=seed)
    else:
        ours = solve_instance(instance, time_limit=time_limit, seed=seed, pyvrp_share=share)
    runtime = time.perf_counter() - started
    cost = evaluate_routes(instance, [list(r) for r in ours.routes])  # independent check
    ref_cost, ref_vehicles = run_pyvrp(instance, time_limit, seed)
    name = instance.name.strip()
    return Row(
        name=name,
        group=group_of(name, instance.num_clients),
        size=instance.num_clients,
        cost=cost / instance.scale,
        bks=bks.get(name.upper()),
        pyvrp=ref_cost / instance.scale,
        first=ours.time_to_first_solution,
        vehicles=len(ours.routes),
        pyvrp_vehicles=ref_vehicles,
        runtime=runtime,
    )


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "rounds":
        from routing_rounds import main as rounds_main

        return rounds_main(argv[1:])
    if argv and argv[0] == "vrplib":
        argv = argv[1:]
    return vrplib_main(argv)


def vrplib_main(argv: list[str]) -> int:
    """The benchmark contract on VRPLIB/Solomon files (not the product path)."""
    parser = argparse.ArgumentParser(description="VRPLIB/Solomon contract: PyVRP + OR-Tools")
    parser.add_argument("--instances", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="regex on file names")
    parser.add_argument("--generated", type=int, default=1000, help="0 to skip")
    parser.add_argument(
        "--pyvrp-share",
        type=float,
        default=None,
        help="share of the budget for the PyVRP start (default 0.75; 0 = OR-Tools alone)",
    )
    args = parser.parse_args(argv)

    files = sorted(p for p in args.instances.iterdir() if p.suffix in {".txt", ".vrp"})
    files = [p for p in files if p.name != "README.md" and re.search(args.only, p.name)]
    bks = load_bks(args.instances)
    rows: list[Row] = []
    header = (
        f"{'instance':<12} {'n':>5} {'cost':>10} {'BKS':>10} {'gap BKS':>8} {'PyVRP':>10} "
        f"{'gap PyVRP':>9} {'first s':>8} {'veh':>4} {'veh PyVRP':>9} {'time s':>7}"
    )
    engine = (
        "PyVRP start + OR-Tools GLS"
        if args.pyvrp_share != 0
        else "OR-Tools alone (insertion start + GLS)"
    )
    print("VRPLIB/Solomon contract (PyVRP + OR-Tools; not the product's rounds path)")
    print(f"ours: {engine}; time limit {args.time_limit} s per solver and instance, ", end="")
    print(f"seed {args.seed}; PyVRP {pyvrp_version()} alone as reference")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        if args.generated:
            generated = Path(tmp) / f"gen_r1_{args.generated}.txt"
            generate_r1(generated, args.generated, args.seed)
            files.append(generated)
        for path in files:
            try:
                row = bench(path, bks, args.time_limit, args.seed, args.pyvrp_share)
            except ScenarioError as exc:
                print(f"{path.stem:<12} no answer: {exc}", flush=True)
                continue
            rows.append(row)
            print(
                f"{row.name:<12} {row.size:>5} {row.cost:>10.1f} {fmt(row.bks, '>10.1f')} "
                f"{pct(row.gap_bks):>8} {row.pyvrp:>10.1f} {row.gap_pyvrp:>8.2f}% "
                f"{row.first:>8.3f} {row.vehicles:>4} {row.pyvrp_vehicles:>9} "
                f"{row.runtime:>7.2f}",
                flush=True,
            )
    print()
    for group in ("Solomon", "GH", "X", "generated"):
        selected = [r for r in rows if r.group == group]
        if not selected:
            continue
        gaps = [r.gap_bks for r in selected if r.gap_bks is not None]
        mean_bks = f"{statistics.mean(gaps):.2f}%" if gaps else "-"
        print(
            f"mean {group:<9}: gap BKS {mean_bks}, "
            f"gap PyVRP {statistics.mean(r.gap_pyvrp for r in selected):.2f}%, "
            f"max first solution {max(r.first for r in selected):.3f} s"
        )
    mid = [r for r in rows if 100 <= r.size <= 200]
    if mid:
        print(f"100-200 stops: worst gap PyVRP {max(r.gap_pyvrp for r in mid):.2f}%")
    print(f"all: mean gap PyVRP {statistics.mean(r.gap_pyvrp for r in rows):.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
