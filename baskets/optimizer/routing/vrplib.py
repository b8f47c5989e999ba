"""Readers for the benchmark formats: Solomon VRPTW text and VRPLIB (TSPLIB-style) CVRP.

The only I/O of the routing package lives here. Both readers return a `VrpInstance` whose
integer data already follow the conventions of the best-known solutions (BKS):

- Solomon VRPTW: Euclidean distances truncated to one decimal (DIMACS convention). Every
  distance, time and service duration is multiplied by 10 once, here, so that the solvers work
  on exact integers; ``scale`` says by how much to divide a cost to get file units.
- VRPLIB CVRP (EUC_2D): Euclidean distances rounded to the nearest integer (TSPLIB ``nint``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from baskets.scenario import ScenarioError

__all__ = ["VrpInstance", "read_instance", "read_solomon", "read_vrplib"]

# Solomon times are integers or one-decimal values; x10 keeps them exact.
_SOLOMON_SCALE = 10


@dataclass(frozen=True)
class VrpInstance:
    """A benchmark instance in integer solver units; node 0 is the depot.

    Attributes
    ----------
    name
        Instance name (from the file).
    kind
        ``"vrptw"`` (Solomon text) or ``"cvrp"`` (VRPLIB).
    x, y
        Coordinates of every node, depot first.
    demand
        Demand of every node (0 at the depot).
    capacity
        Capacity of every vehicle.
    num_vehicles
        Fleet size for VRPTW; ``None`` for CVRP, where the fleet is not limited.
    ready, due, service
        Time window and service duration per node, in scaled units (all 0 / unbounded for CVRP).
    numbers
        The number the BKS files use for each node (depot 0, clients as in the file).
    scale
        Divide an integer cost by this to get the file's units.
    """

    name: str
    kind: Literal["vrptw", "cvrp"]
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    capacity: int
    num_vehicles: int | None
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]
    numbers: tuple[int, ...]
    scale: int

    @property
    def num_clients(self) -> int:
        """Number of clients (nodes other than the depot)."""
        return len(self.x) - 1

    def distance_matrix(self) -> npt.NDArray[np.int64]:
        """Integer distances between all nodes under the instance's BKS convention."""
        xs = np.asarray(self.x, dtype=np.float64)
        ys = np.asarray(self.y, dtype=np.float64)
        dist = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
        if self.kind == "vrptw":
            # Truncation, not rounding: the DIMACS BKS are computed this way.  The tiny epsilon
            # protects exact values such as 10.0 from landing on 9.999... after the product.
            return np.floor(dist * _SOLOMON_SCALE + 1e-9).astype(np.int64)
        # TSPLIB nint(); a square root of an integer is never exactly .5, so rint is exact.
        return np.rint(dist).astype(np.int64)


def read_instance(path: Path) -> VrpInstance:
    """Read a Solomon or VRPLIB file, choosing the format from its content.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    VrpInstance
        The instance in integer solver units.

    Raises
    ------
    ScenarioError
        If the file cannot be read or is not a well-formed instance (the message says where).
    """
    text = _read_text(path)
    if "NODE_COORD_SECTION" in text.upper():
        return _parse_vrplib(path, text)
    return _parse_solomon(path, text)


def read_solomon(path: Path) -> VrpInstance:
    """Read a Solomon-format VRPTW file (see `read_instance`)."""
    return _parse_solomon(path, _read_text(path))


def read_vrplib(path: Path) -> VrpInstance:
    """Read a VRPLIB CVRP file with EUC_2D distances (see `read_instance`)."""
    return _parse_vrplib(path, _read_text(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from exc


def _number(path: Path, lineno: int, token: str) -> float:
    try:
        value = float(token)
    except ValueError as exc:
        raise ScenarioError(f"{path}:{lineno}: {token!r} is not a number") from exc
    if not math.isfinite(value):
        raise ScenarioError(f"{path}:{lineno}: {token!r} is not a finite number")
    return value


def _scaled(path: Path, lineno: int, token: str) -> int:
    value = _number(path, lineno, token) * _SOLOMON_SCALE
    if abs(value - round(value)) > 1e-6:
        raise ScenarioError(f"{path}:{lineno}: {token!r} has more than one decimal")
    return round(value)


def _parse_solomon(path: Path, text: str) -> VrpInstance:
    lines = text.splitlines()
    name = next((line.strip() for line in lines if line.strip()), "")
    if not name:
        raise ScenarioError(f"{path}: empty file")
    num_vehicles: int | None = None
    capacity: int | None = None
    rows: list[tuple[int, list[str]]] = []
    section = ""
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        upper = line.upper()
        if upper.startswith("VEHICLE"):
            section = "vehicle"
            continue
        if upper.startswith("CUSTOMER"):
            section = "customer"
            continue
        tokens = line.split()
        if not tokens or not _is_number(tokens[0]):
            continue  # titles and column headers
        if section == "vehicle" and capacity is None:
            if len(tokens) != 2:
                raise ScenarioError(f"{path}:{lineno}: expected 'NUMBER CAPACITY', got {line!r}")
            num_vehicles = int(_number(path, lineno, tokens[0]))
            capacity = int(_number(path, lineno, tokens[1]))
        elif section == "customer":
            if len(tokens) != 7:
                raise ScenarioError(
                    f"{path}:{lineno}: expected 7 columns (no, x, y, demand, ready, due, "
                    f"service), got {len(tokens)}"
                )
            rows.append((lineno, tokens))
    if capacity is None or num_vehicles is None:
        raise ScenarioError(f"{path}: no VEHICLE section with 'NUMBER CAPACITY'")
    if num_vehicles <= 0 or capacity <= 0:
        raise ScenarioError(f"{path}: vehicle number and capacity must be positive")
    if len(rows) < 2:
        raise ScenarioError(f"{path}: CUSTOMER section needs the depot and at least one client")
    numbers = [int(_number(path, ln, t[0])) for ln, t in rows]
    if numbers[0] != 0:
        raise ScenarioError(f"{path}:{rows[0][0]}: the first customer row must be the depot 0")
    if len(set(numbers)) != len(numbers):
        raise ScenarioError(f"{path}: duplicate customer numbers")
    ready = [_scaled(path, ln, t[4]) for ln, t in rows]
    due = [_scaled(path, ln, t[5]) for ln, t in rows]
    for (ln, _), r, d in zip(rows, ready, due, strict=True):
        if r > d:
            raise ScenarioError(f"{path}:{ln}: ready time after due date")
    demand = [int(_number(path, ln, t[3])) for ln, t in rows]
    if any(q < 0 for q in demand):
        raise ScenarioError(f"{path}: negative demand")
    return VrpInstance(
        name=name,
        kind="vrptw",
        x=tuple(_number(path, ln, t[1]) for ln, t in rows),
        y=tuple(_number(path, ln, t[2]) for ln, t in rows),
        demand=tuple(demand),
        capacity=capacity,
        num_vehicles=num_vehicles,
        ready=tuple(ready),
        due=tuple(due),
        service=tuple(_scaled(path, ln, t[6]) for ln, t in rows),
        numbers=tuple(numbers),
        scale=_SOLOMON_SCALE,
    )


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _parse_vrplib(path: Path, text: str) -> VrpInstance:
    header: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    demands: dict[int, int] = {}
    depots: list[int] = []
    section = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        upper = line.upper()
        if upper == "EOF":
            break
        if upper.endswith("_SECTION"):
            section = upper
            continue
        if ":" in line and not _is_number(line.split()[0]):
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip().strip('"')
            section = ""
            continue
        tokens = line.split()
        if section == "NODE_COORD_SECTION":
            if len(tokens) != 3:
                raise ScenarioError(f"{path}:{lineno}: expected 'id x y', got {line!r}")
            coords[int(_number(path, lineno, tokens[0]))] = (
                _number(path, lineno, tokens[1]),
                _number(path, lineno, tokens[2]),
            )
        elif section == "DEMAND_SECTION":
            if len(tokens) != 2:
                raise ScenarioError(f"{path}:{lineno}: expected 'id demand', got {line!r}")
            demands[int(_number(path, lineno, tokens[0]))] = int(_number(path, lineno, tokens[1]))
        elif section == "DEPOT_SECTION":
            node = int(_number(path, lineno, tokens[0]))
            if node == -1:
                section = ""
            else:
                depots.append(node)
        elif section:
            raise ScenarioError(f"{path}:{lineno}: section {section} is not supported")
    kind = header.get("TYPE", "CVRP").upper()
    if kind != "CVRP":
        raise ScenarioError(f"{path}: TYPE {kind} is not supported (only CVRP)")
    weight = header.get("EDGE_WEIGHT_TYPE", "").upper()
    if weight != "EUC_2D":
        raise ScenarioError(f"{path}: EDGE_WEIGHT_TYPE {weight or '(missing)'} is not EUC_2D")
    if "CAPACITY" not in header:
        raise ScenarioError(f"{path}: no CAPACITY")
    capacity = int(_number(path, 0, header["CAPACITY"]))
    if "DIMENSION" not in header:
        raise ScenarioError(f"{path}: no DIMENSION")
    dimension = int(_number(path, 0, header["DIMENSION"]))
    ids = sorted(coords)
    if ids != list(range(1, dimension + 1)):
        raise ScenarioError(
            f"{path}: NODE_COORD_SECTION must list nodes 1..{dimension}, found {len(ids)}"
        )
    if sorted(demands) != ids:
        raise ScenarioError(f"{path}: DEMAND_SECTION must give a demand for every node")
    if len(depots) != 1:
        raise ScenarioError(f"{path}: DEPOT_SECTION must name exactly one depot")
    depot = depots[0]
    if depot not in coords:
        raise ScenarioError(f"{path}: depot {depot} has no coordinates")
    if any(q < 0 for q in demands.values()) or capacity <= 0:
        raise ScenarioError(f"{path}: demands must be >= 0 and CAPACITY > 0")
    order = [depot, *(i for i in ids if i != depot)]
    # BKS .sol files number clients by file position with the depot as 0 (X: node k -> k-1).
    numbers = [0, *(i - 1 if i > depot else i for i in order[1:])]
    horizon = np.iinfo(np.int64).max // 4
    return VrpInstance(
        name=header.get("NAME", path.stem),
        kind="cvrp",
        x=tuple(coords[i][0] for i in order),
        y=tuple(coords[i][1] for i in order),
        demand=tuple(demands[i] for i in order),
        capacity=capacity,
        num_vehicles=None,
        ready=(0,) * len(order),
        due=(int(horizon),) * len(order),
        service=(0,) * len(order),
        numbers=tuple(numbers),
        scale=1,
    )
