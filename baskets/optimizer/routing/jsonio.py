"""Round-planning problems from JSON-like data, and results back to JSON-ready dicts.

Used by the ``baskets solve`` command and by fixtures; the API builds problems from the
database instead. Times are minutes from the day's start or ``"HH:MM"`` strings; masses in
kg; places as ``[lat, lon]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from baskets.optimizer.routing.model import (
    Break,
    Hub,
    Location,
    RoundsProblem,
    RoundsResult,
    ServiceTime,
    Stop,
    StopKind,
    TimeWindow,
    Vehicle,
    VehicleKind,
)
from baskets.scenario import ScenarioError, read_json_file

__all__ = ["problem_from_data", "read_problem", "result_to_data"]


def read_problem(path: Path) -> RoundsProblem:
    """Read a round-planning problem from a JSON file (raises `ScenarioError` if invalid)."""
    data = read_json_file(path)
    try:
        return problem_from_data(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def _field(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ScenarioError(f"{where}: missing '{key}'")
    return data[key]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _minutes(value: Any, where: str) -> float:
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        if not sep or not hours.isdigit() or not minutes.isdigit():
            raise ScenarioError(f"{where}: expected minutes or 'HH:MM', got {value!r}")
        return int(hours) * 60 + int(minutes)
    return _number(value, where)


def _window(value: Any, where: str) -> TimeWindow:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(f"{where}: expected [start, end]")
    try:
        return TimeWindow(_minutes(value[0], where), _minutes(value[1], where))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _location(value: Any, where: str) -> Location:
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(f"{where}: expected [lat, lon]")
    try:
        return Location(_number(value[0], where), _number(value[1], where))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _record(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected an object")
    return value


def problem_from_data(data: Any) -> RoundsProblem:
    """Build a `RoundsProblem` from parsed JSON.

    Parameters
    ----------
    data
        ``{"stops": [...], "vehicles": [...], "hub": {...} | null, "service": {...},
        "road_factor": 1.3}``; see ``fixtures/solver/routing_marseille.json``.

    Returns
    -------
    RoundsProblem
        The validated problem.

    Raises
    ------
    ScenarioError
        Naming the first wrong field.
    """
    root = _record(data, "problem")
    stops = []
    raw_stops = _field(root, "stops", "problem")
    if not isinstance(raw_stops, list):
        raise ScenarioError("stops: expected a list")
    for k, raw in enumerate(raw_stops):
        where = f"stops[{k}]"
        item = _record(raw, where)
        raw_kind = _field(item, "kind", where)
        try:
            kind = StopKind(raw_kind)
        except ValueError as exc:
            raise ScenarioError(f"{where}.kind: expected 'pickup' or 'delivery'") from exc
        try:
            stops.append(
                Stop(
                    id=str(_field(item, "id", where)),
                    kind=kind,
                    location=_location(_field(item, "at", where), f"{where}.at"),
                    window=_window(_field(item, "window", where), f"{where}.window"),
                    kg=_number(_field(item, "kg", where), f"{where}.kg"),
                    refrigerated=bool(item.get("refrigerated", False)),
                    source=None if item.get("source") is None else str(item["source"]),
                )
            )
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
    vehicles = []
    raw_vehicles = _field(root, "vehicles", "problem")
    if not isinstance(raw_vehicles, list):
        raise ScenarioError("vehicles: expected a list")
    for k, raw in enumerate(raw_vehicles):
        where = f"vehicles[{k}]"
        item = _record(raw, where)
        try:
            vehicle_kind = VehicleKind(item.get("kind", "car"))
        except ValueError as exc:
            kinds = ", ".join(v.value for v in VehicleKind)
            raise ScenarioError(f"{where}.kind: expected one of {kinds}") from exc
        start = _location(_field(item, "start", where), f"{where}.start")
        speed = item.get("speed_kmh")
        breaks = []
        raw_breaks = item.get("breaks", [])
        if not isinstance(raw_breaks, list):
            raise ScenarioError(f"{where}.breaks: expected a list")
        for b, raw_break in enumerate(raw_breaks):
            at = f"{where}.breaks[{b}]"
            entry = _record(raw_break, at)
            try:
                breaks.append(
                    Break(
                        id=str(_field(entry, "id", at)),
                        window=_window(_field(entry, "window", at), f"{at}.window"),
                        duration_min=_number(
                            _field(entry, "duration_min", at), f"{at}.duration_min"
                        ),
                    )
                )
            except ValueError as exc:
                raise ScenarioError(f"{at}: {exc}") from exc
        try:
            vehicles.append(
                Vehicle(
                    id=str(_field(item, "id", where)),
                    capacity_kg=_number(_field(item, "capacity_kg", where), f"{where}.capacity_kg"),
                    refrigerated=bool(item.get("refrigerated", False)),
                    start=start,
                    end=_location(item["end"], f"{where}.end") if "end" in item else start,
                    shift=_window(_field(item, "shift", where), f"{where}.shift"),
                    max_duration_min=_number(
                        _field(item, "max_duration_min", where), f"{where}.max_duration_min"
                    ),
                    kind=vehicle_kind,
                    speed_kmh=None if speed is None else _number(speed, f"{where}.speed_kmh"),
                    fixed_cost=_number(item.get("fixed_cost", 0.0), f"{where}.fixed_cost"),
                    breaks=tuple(breaks),
                )
            )
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
    hub = None
    if root.get("hub") is not None:
        item = _record(root["hub"], "hub")
        hub = Hub(
            id=str(_field(item, "id", "hub")),
            location=_location(_field(item, "at", "hub"), "hub.at"),
            drop_window=_window(_field(item, "drop_window", "hub"), "hub.drop_window"),
            load_window=_window(_field(item, "load_window", "hub"), "hub.load_window"),
        )
    service = ServiceTime()
    if root.get("service") is not None:
        item = _record(root["service"], "service")
        service = ServiceTime(
            _number(item.get("fixed_min", service.fixed_min), "service.fixed_min"),
            _number(item.get("per_kg_min", service.per_kg_min), "service.per_kg_min"),
        )
    road_factor = _number(root.get("road_factor", 1.3), "road_factor")
    try:
        return RoundsProblem(tuple(stops), tuple(vehicles), hub, service, road_factor)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from exc


def result_to_data(result: RoundsResult) -> dict[str, Any]:
    """A JSON-ready dict of `result` (times in minutes, rounded to 0.1)."""
    return {
        "status": result.status,
        "total_km": round(result.total_km, 3),
        "total_duration_min": round(result.total_duration_min, 1),
        "time_to_first_solution": round(result.time_to_first_solution, 3),
        "routes": [
            {
                "vehicle_id": route.vehicle_id,
                "start_min": round(route.start_min, 1),
                "end_min": round(route.end_min, 1),
                "km": round(route.km, 3),
                "duration_min": round(route.duration_min, 1),
                "breaks": [
                    {
                        "break_id": b.break_id,
                        "start_min": round(b.start_min, 1),
                        "end_min": round(b.end_min, 1),
                        "after_stops": b.after_stops,
                    }
                    for b in route.breaks
                ],
                "stops": [
                    {
                        "stop_id": stop.stop_id,
                        "kind": stop.kind.value,
                        "for_stop": stop.for_stop,
                        "arrival_min": round(stop.arrival_min, 1),
                        "start_min": round(stop.start_min, 1),
                        "departure_min": round(stop.departure_min, 1),
                        "load_kg": round(stop.load_kg, 3),
                    }
                    for stop in route.stops
                ],
            }
            for route in result.routes
        ],
        "unserved": [
            {
                "stop_id": u.stop_id,
                "reason": u.reason.value,
                "message_fr": u.message_fr,
                "message_en": u.message_en,
            }
            for u in result.unserved
        ],
    }
