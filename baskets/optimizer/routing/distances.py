"""Travel matrices: great-circle distance x road factor, or an OSRM ``/table/v1`` service.

Both give kilometres; OSRM also gives driving minutes. Matrices are cached by the exact list
of locations (and the source), so planning and re-planning the same day fetch them once.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import httpx
import numpy as np
from geopy.distance import EARTH_RADIUS

from baskets.optimizer.routing.model import Location

__all__ = [
    "MatrixCache",
    "OsrmError",
    "OsrmTableClient",
    "TravelMatrix",
    "great_circle_matrix",
]


@dataclass(frozen=True)
class TravelMatrix:
    """Kilometres, and optionally driving minutes, between locations (row = from).

    When ``minutes`` is ``None``, the solver derives times from each vehicle's average speed.
    """

    km: tuple[tuple[float, ...], ...]
    minutes: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.km)
        if any(len(row) != n for row in self.km):
            raise ValueError("distance matrix must be square")
        if self.minutes is not None and (
            len(self.minutes) != n or any(len(row) != n for row in self.minutes)
        ):
            raise ValueError("duration matrix must have the distance matrix's shape")


class MatrixCache:
    """A small least-recently-used cache of matrices keyed by source and locations."""

    def __init__(self, maxsize: int = 32) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[Hashable, TravelMatrix] = OrderedDict()

    def get(self, key: Hashable) -> TravelMatrix | None:
        """The cached matrix for `key`, if any."""
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, matrix: TravelMatrix) -> None:
        """Store `matrix`, evicting the least recently used beyond the size."""
        self._items[key] = matrix
        self._items.move_to_end(key)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_GREAT_CIRCLE_CACHE = MatrixCache()


def great_circle_matrix(
    locations: Sequence[Location], road_factor: float = 1.3, cache: MatrixCache | None = None
) -> TravelMatrix:
    """Great-circle kilometres x `road_factor` between all `locations`.

    Parameters
    ----------
    locations
        The points, in matrix order.
    road_factor
        Ratio of road to straight-line distance (1.3 is usual for towns).
    cache
        Where to look up and store the matrix (a module-wide cache by default).

    Returns
    -------
    TravelMatrix
        Kilometres only; times come from the vehicles' speeds.
    """
    store = _GREAT_CIRCLE_CACHE if cache is None else cache
    key = ("great_circle", road_factor, tuple(locations))
    found = store.get(key)
    if found is not None:
        return found
    # Same formula and Earth radius as geopy.distance.great_circle, vectorised: geopy's
    # per-pair call costs too much for a few hundred stops.
    lat = np.radians([loc.lat for loc in locations])
    lon = np.radians([loc.lon for loc in locations])
    dlon = lon[None, :] - lon[:, None]
    y = np.hypot(
        np.cos(lat[None, :]) * np.sin(dlon),
        np.cos(lat[:, None]) * np.sin(lat[None, :])
        - np.sin(lat[:, None]) * np.cos(lat[None, :]) * np.cos(dlon),
    )
    x = np.sin(lat[:, None]) * np.sin(lat[None, :]) + np.cos(lat[:, None]) * np.cos(
        lat[None, :]
    ) * np.cos(dlon)
    km = np.arctan2(y, x) * EARTH_RADIUS * road_factor
    matrix = TravelMatrix(km=tuple(map(tuple, km.tolist())))
    store.put(key, matrix)
    return matrix


class OsrmError(RuntimeError):
    """The OSRM service did not answer with a usable table."""


class OsrmTableClient:
    """Client of an OSRM ``/table/v1`` service.

    Parameters
    ----------
    base_url
        Root of the service (from the settings, e.g. ``BASKETS_OSRM_URL``).
    profile
        OSRM profile in the path (``driving`` for the public demo server).
    timeout
        Seconds per request.
    client
        An ``httpx.Client`` to reuse (one is created otherwise).
    cache
        Where to cache matrices (a cache private to this client by default).
    """

    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        cache: MatrixCache | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._profile = profile
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._cache = cache if cache is not None else MatrixCache()
        self.requests = 0

    def table(self, locations: Sequence[Location]) -> TravelMatrix:
        """Kilometres and minutes between all `locations`, from the cache or the service.

        Raises
        ------
        OsrmError
            On a transport error, a non-``Ok`` answer, a malformed table or an unreachable pair.
        """
        key = ("osrm", self._base_url, self._profile, tuple(locations))
        found = self._cache.get(key)
        if found is not None:
            return found
        # OSRM wants lon,lat pairs separated by semicolons.
        coords = ";".join(f"{loc.lon:.6f},{loc.lat:.6f}" for loc in locations)
        url = f"{self._base_url}/table/v1/{self._profile}/{coords}"
        try:
            response = self._client.get(url, params={"annotations": "duration,distance"})
            self.requests += 1
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OsrmError(f"OSRM table request failed: {exc}") from exc
        if not isinstance(payload, dict) or payload.get("code") != "Ok":
            message = payload.get("message", "") if isinstance(payload, dict) else ""
            code = payload.get("code") if isinstance(payload, dict) else None
            raise OsrmError(f"OSRM answered {code or response.status_code}: {message}".strip())
        n = len(locations)
        distances = _square(payload.get("distances"), n, "distances")
        durations = _square(payload.get("durations"), n, "durations")
        matrix = TravelMatrix(
            km=tuple(tuple(v / 1000.0 for v in row) for row in distances),
            minutes=tuple(tuple(v / 60.0 for v in row) for row in durations),
        )
        self._cache.put(key, matrix)
        return matrix

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self._client.close()


def _square(value: object, n: int, name: str) -> list[list[float]]:
    if not isinstance(value, list) or len(value) != n:
        raise OsrmError(f"OSRM table has no {n}x{n} '{name}'")
    rows: list[list[float]] = []
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != n:
            raise OsrmError(f"OSRM table '{name}' row {i} is not of length {n}")
        out: list[float] = []
        for j, v in enumerate(row):
            if v is None:
                raise OsrmError(f"OSRM finds no route from location {i} to {j}")
            if not isinstance(v, int | float) or not math.isfinite(v):
                raise OsrmError(f"OSRM table '{name}' has a bad value at ({i}, {j})")
            out.append(float(v))
        rows.append(out)
    return rows
