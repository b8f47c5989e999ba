"""Travel matrices: great-circle x road factor, cache, and the OSRM table client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from geopy.distance import great_circle

from baskets.optimizer.routing import (
    Location,
    MatrixCache,
    OsrmError,
    OsrmTableClient,
    RoundsProblem,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    great_circle_matrix,
    solve_rounds,
)

MARSEILLE = Location(43.2965, 5.3698)
AIX = Location(43.5297, 5.4474)
AUBAGNE = Location(43.2927, 5.5708)


class _OsrmStandIn(BaseHTTPRequestHandler):
    """Speaks OSRM's /table/v1: distance = 1 km per 0.01 deg of |dlat|+|dlon|, 60 km/h."""

    mode: ClassVar[str] = "ok"
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)  # urlparse would cut the path at ";"
        type(self).seen.append(self.path)
        parts = url.path.split("/")
        if parts[1:3] != ["table", "v1"] or len(parts) != 5:
            self._send(400, {"code": "InvalidUrl", "message": "bad path"})
            return
        annotations = parse_qs(url.query).get("annotations", [""])[0].split(",")
        coords = [tuple(map(float, pair.split(","))) for pair in parts[4].split(";")]
        metres = [
            [round(100_000 * (abs(a[0] - b[0]) + abs(a[1] - b[1])), 1) for b in coords]
            for a in coords
        ]
        body: dict[str, object] = {"code": "Ok", "sources": [], "destinations": []}
        if "distance" in annotations:
            body["distances"] = metres
        if "duration" in annotations:
            body["durations"] = [[m / 1000 * 60 for m in row] for row in metres]
        if self.mode == "error":
            self._send(400, {"code": "InvalidQuery", "message": "Query string malformed"})
        elif self.mode == "null":
            body["durations"][0][-1] = None  # type: ignore[index]
            self._send(200, body)
        else:
            self._send(200, body)

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


@pytest.fixture
def osrm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsrmStandIn)
    _OsrmStandIn.mode = "ok"
    _OsrmStandIn.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_great_circle_matches_geopy_times_road_factor() -> None:
    """Each entry equals geopy's great_circle km x 1.3; the diagonal is 0."""
    locs = [MARSEILLE, AIX, AUBAGNE]
    matrix = great_circle_matrix(locs, 1.3, cache=MatrixCache())
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            expected = great_circle((a.lat, a.lon), (b.lat, b.lon)).km * 1.3
            assert matrix.km[i][j] == pytest.approx(expected, abs=1e-6)
    assert matrix.minutes is None


def test_great_circle_matrix_is_cached() -> None:
    """The same locations and factor give back the cached matrix object."""
    cache = MatrixCache()
    first = great_circle_matrix([MARSEILLE, AIX], 1.3, cache=cache)
    assert great_circle_matrix([MARSEILLE, AIX], 1.3, cache=cache) is first
    assert great_circle_matrix([MARSEILLE, AIX], 1.4, cache=cache) is not first
    assert len(cache) == 2


def test_osrm_client_reads_table_and_caches(osrm_url: str) -> None:
    """Metres/seconds become km/minutes, lon,lat order is used, and a repeat is not fetched."""
    client = OsrmTableClient(osrm_url)
    locs = [MARSEILLE, AIX]
    matrix = client.table(locs)
    expected_km = 100 * (abs(AIX.lat - MARSEILLE.lat) + abs(AIX.lon - MARSEILLE.lon))
    assert matrix.km[0][1] == pytest.approx(expected_km, abs=1e-3)
    assert matrix.minutes is not None
    assert matrix.minutes[0][1] == pytest.approx(expected_km, abs=1e-3)  # 60 km/h
    assert "/table/v1/driving/5.369800,43.296500;5.447400,43.529700" in _OsrmStandIn.seen[0]
    assert client.table(locs) is matrix
    assert client.requests == 1
    client.close()


@pytest.mark.parametrize(("mode", "message"), [("error", "InvalidQuery"), ("null", "no route")])
def test_osrm_client_errors(osrm_url: str, mode: str, message: str) -> None:
    """A non-Ok answer or an unreachable pair raises OsrmError."""
    _OsrmStandIn.mode = mode
    client = OsrmTableClient(osrm_url)
    with pytest.raises(OsrmError, match=message):
        client.table([MARSEILLE, AIX, AUBAGNE])


def test_osrm_unreachable_server_raises() -> None:
    """A closed port is reported as an OsrmError."""
    client = OsrmTableClient("http://127.0.0.1:9", timeout=1.0)
    with pytest.raises(OsrmError, match="failed"):
        client.table([MARSEILLE, AIX])


def test_solve_rounds_with_osrm_durations(osrm_url: str) -> None:
    """Planning with the stand-in uses its km and minutes (60 km/h) for the route."""
    farm = Location(43.30, 5.40)
    point = Location(43.30, 5.42)
    stops = (
        Stop("f", StopKind.PICKUP, farm, TimeWindow(0, 600), 10),
        Stop("p", StopKind.DELIVERY, point, TimeWindow(0, 600), 10, source="f"),
    )
    van = Vehicle("v", 100, False, farm, farm, TimeWindow(0, 600), 600)
    client = OsrmTableClient(osrm_url)
    result = solve_rounds(RoundsProblem(stops, (van,)), time_limit=1, seed=0, travel=client.table)
    (route,) = result.routes
    assert route.km == pytest.approx(4.0, abs=1e-3)  # 2 km there, 2 km back
    pickup, delivery = route.stops
    assert delivery.arrival_min - pickup.departure_min == pytest.approx(2.0, abs=0.02)
