"""The round-planning problem and its answer, as frozen dataclasses in natural units.

Times are minutes from a reference instant chosen by the caller (e.g. midnight of the
distribution day), masses are kilograms, distances kilometres. The solver converts them to
integers (seconds, grams, metres) once, at its boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "Break",
    "Hub",
    "Location",
    "PlannedBreak",
    "PlannedStop",
    "RoundsProblem",
    "RoundsResult",
    "Route",
    "ServiceTime",
    "Stop",
    "StopKind",
    "TimeWindow",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "VehicleKind",
    "VisitKind",
]


class StopKind(StrEnum):
    """What happens at a stop."""

    PICKUP = "pickup"
    DELIVERY = "delivery"


class VisitKind(StrEnum):
    """What a planned visit does (hub visits are added by the solver)."""

    PICKUP = "pickup"
    DELIVERY = "delivery"
    HUB_DROP = "hub_drop"
    HUB_LOAD = "hub_load"


class VehicleKind(StrEnum):
    """Kinds of vehicles; each has a default average speed in `DEFAULT_SPEEDS_KMH`."""

    VAN = "van"
    CAR = "car"
    REFRIGERATED_VAN = "refrigerated_van"
    CARGO_BIKE = "cargo_bike"


# Urban averages including stops at lights; a setting can override them per vehicle.
DEFAULT_SPEEDS_KMH: dict[VehicleKind, float] = {
    VehicleKind.VAN: 35.0,
    VehicleKind.CAR: 40.0,
    VehicleKind.REFRIGERATED_VAN: 35.0,
    VehicleKind.CARGO_BIKE: 14.0,
}


@dataclass(frozen=True)
class Location:
    """A point on the map (WGS84 degrees)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"location ({self.lat}, {self.lon}) is not valid WGS84")


@dataclass(frozen=True)
class TimeWindow:
    """A closed interval of minutes ``[start, end]``."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"time window ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class ServiceTime:
    """Minutes spent at a stop: a fixed part plus a part per kg handled."""

    fixed_min: float = 5.0
    per_kg_min: float = 0.05

    def minutes(self, kg: float) -> float:
        """Service minutes for handling `kg`."""
        return self.fixed_min + self.per_kg_min * kg


@dataclass(frozen=True)
class Stop:
    """A farm pick-up or a distribution-point delivery.

    Attributes
    ----------
    id
        Unique among stops.
    kind
        Pick-up at a farm or delivery to a distribution point.
    location
        Where.
    window
        When the vehicle may arrive (service starts within the window).
    kg
        Kilograms handed over.
    refrigerated
        The produce needs a refrigerated vehicle.
    source
        Deliveries only: the pick-up whose produce this delivery carries, in the same vehicle
        and after it. ``None``: the produce comes from the hub (which must then exist). A
        pick-up that no delivery names goes to the hub.
    """

    id: str
    kind: StopKind
    location: Location
    window: TimeWindow
    kg: float
    refrigerated: bool = False
    source: str | None = None

    def __post_init__(self) -> None:
        if self.kg < 0:
            raise ValueError(f"stop {self.id}: kg must be >= 0")
        if self.source is not None and self.kind is not StopKind.DELIVERY:
            raise ValueError(f"stop {self.id}: only a delivery has a source")


@dataclass(frozen=True)
class Hub:
    """A cross-dock where collected produce is sorted into the points' loads.

    Collection rounds must drop produce within ``drop_window``; delivery rounds load it within
    ``load_window`` (which starts once the sorting is done).
    """

    id: str
    location: Location
    drop_window: TimeWindow
    load_window: TimeWindow


@dataclass(frozen=True)
class Break:
    """A driver's break: `duration_min` minutes taken wholly inside `window`, wherever the
    vehicle is (at a stop, after its service)."""

    id: str
    window: TimeWindow
    duration_min: float

    def __post_init__(self) -> None:
        if self.duration_min < 0 or self.duration_min > self.window.end - self.window.start:
            raise ValueError(f"break {self.id}: duration must fit in its window")


@dataclass(frozen=True)
class Vehicle:
    """A van of the team or a volunteer's car.

    Attributes
    ----------
    id
        Unique among vehicles.
    capacity_kg
        Most kilograms on board at any time.
    refrigerated
        Can carry produce that needs the cold chain.
    start, end
        Where the shift starts and ends (depot or the volunteer's home).
    shift
        The vehicle leaves its start and is back at its end within this window.
    max_duration_min
        Longest time from leaving the start to arriving at the end.
    kind
        Kind of vehicle, giving the average speed.
    speed_kmh
        Overrides the kind's default speed.
    fixed_cost
        Cost of using the vehicle at all, in the objective's unit (1 = one km driven): a
        volunteer's car is not free to call out, so fewer, fuller rounds are preferred.
    breaks
        Breaks the driver must take during the shift (team-driven shifts over 6 h).
    """

    id: str
    capacity_kg: float
    refrigerated: bool
    start: Location
    end: Location
    shift: TimeWindow
    max_duration_min: float
    kind: VehicleKind = VehicleKind.CAR
    speed_kmh: float | None = None
    fixed_cost: float = 0.0
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if self.fixed_cost < 0:
            raise ValueError(f"vehicle {self.id}: fixed cost must be >= 0")
        if self.capacity_kg < 0 or self.max_duration_min < 0:
            raise ValueError(f"vehicle {self.id}: capacity and max duration must be >= 0")
        if self.speed_kmh is not None and self.speed_kmh <= 0:
            raise ValueError(f"vehicle {self.id}: speed must be positive")

    @property
    def speed(self) -> float:
        """Average speed in km/h."""
        return self.speed_kmh if self.speed_kmh is not None else DEFAULT_SPEEDS_KMH[self.kind]


@dataclass(frozen=True)
class RoundsProblem:
    """One day's round-planning problem.

    Attributes
    ----------
    stops
        Pick-ups and deliveries.
    vehicles
        Available vehicles.
    hub
        Optional cross-dock for produce not paired pick-up to delivery.
    service
        Service time model.
    road_factor
        Great-circle distance x this = road distance (used when no matrix is given).
    """

    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    hub: Hub | None = None
    service: ServiceTime = field(default_factory=ServiceTime)
    road_factor: float = 1.3

    def __post_init__(self) -> None:
        ids = [s.id for s in self.stops]
        if len(set(ids)) != len(ids):
            raise ValueError("stop ids must be unique")
        if len({v.id for v in self.vehicles}) != len(self.vehicles):
            raise ValueError("vehicle ids must be unique")
        by_id = {s.id: s for s in self.stops}
        sources = [s.source for s in self.stops if s.source is not None]
        if len(set(sources)) != len(sources):
            raise ValueError("a pick-up can be the source of one delivery only")
        for stop in self.stops:
            if stop.source is not None:
                src = by_id.get(stop.source)
                if src is None or src.kind is not StopKind.PICKUP:
                    raise ValueError(f"delivery {stop.id}: source {stop.source} is no pick-up")
        if self.hub is None:
            paired = set(sources)
            for stop in self.stops:
                unpaired = (stop.kind is StopKind.PICKUP and stop.id not in paired) or (
                    stop.kind is StopKind.DELIVERY and stop.source is None
                )
                if unpaired:
                    raise ValueError(f"stop {stop.id} is not paired and there is no hub")
        if self.road_factor < 1.0:
            raise ValueError("road factor must be >= 1")


@dataclass(frozen=True)
class PlannedStop:
    """One visit of a route, in order.

    ``stop_id`` is the stop's id, or the hub's id for hub visits; ``for_stop`` names the
    pick-up or delivery whose produce a hub visit drops or loads.
    """

    stop_id: str
    kind: VisitKind
    arrival_min: float
    start_min: float
    departure_min: float
    load_kg: float
    for_stop: str | None = None


@dataclass(frozen=True)
class PlannedBreak:
    """A driver's break in a round: taken after the first `after_stops` visits (0: before
    the first one), from `start_min` to `end_min` (the vehicle may still be on its way)."""

    break_id: str
    start_min: float
    end_min: float
    after_stops: int


@dataclass(frozen=True)
class Route:
    """A vehicle's round: ordered visits, with totals and the driver's breaks."""

    vehicle_id: str
    stops: tuple[PlannedStop, ...]
    start_min: float
    end_min: float
    km: float
    duration_min: float
    breaks: tuple[PlannedBreak, ...] = ()


class UnservedReason(StrEnum):
    """Why a stop could not be served."""

    WINDOW_UNREACHABLE = "window_unreachable"
    NO_REFRIGERATED_VEHICLE = "no_refrigerated_vehicle"
    CAPACITY = "capacity"
    FLEET_FULL = "fleet_full"


@dataclass(frozen=True)
class Unserved:
    """A stop left out, with a reason code and messages in French and English."""

    stop_id: str
    reason: UnservedReason
    message_fr: str
    message_en: str


@dataclass(frozen=True)
class RoundsResult:
    """The planned rounds (non-empty routes only) and the stops left out.

    ``time_to_first_solution`` is the seconds until the first plan; ``time_to_complete`` the
    seconds until the first plan that served every stop the final plan serves (``None``
    when not recorded); ``engine`` says which stages made the plan (e.g. ``vroom+ortools``).
    """

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    total_km: float
    total_duration_min: float
    time_to_first_solution: float
    status: str
    time_to_complete: float | None = None
    engine: str = "ortools"
