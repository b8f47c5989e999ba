"""A week's planned rounds (tournées): the plan, each vehicle's ordered stops, the unserved."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class RoundStatus(enum.StrEnum):
    open = "open"  # no driver yet: volunteers may claim it
    claimed = "claimed"  # a volunteer took it (claim or coordinator's assignment)
    done = "done"
    cancelled = "cancelled"  # its vehicle dropped out; its stops went to other rounds


class StopKind(enum.StrEnum):
    pickup = "pickup"
    delivery = "delivery"
    hub = "hub"


class StopStatus(enum.StrEnum):
    pending = "pending"
    done = "done"
    problem = "problem"


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, validate_strings=True)


class RoundPlan(IdMixin, Base):
    """The current round plan of a week; planning again replaces it whole."""

    __tablename__ = "round_plans"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    week_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("weeks.id", ondelete="CASCADE"), unique=True
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The job that stored it: a second run of the same job finds it and stores nothing.
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                                     unique=True)
    solver_status: Mapped[str] = mapped_column(String(16))
    time_limit: Mapped[float]
    seed: Mapped[int]
    wall_seconds: Mapped[float]
    # {"rounds", "km", "duration_min", "stops", "unserved", "kg_picked_up", "kg_delivered"}
    metrics: Mapped[dict[str, Any]]
    # The solver's problem per day, kept so a re-plan keeps the other rounds as they are.
    problem: Mapped[dict[str, Any]]


class Round(IdMixin, Base):
    """One vehicle's round on one day: ordered stops, totals, and its driver once claimed."""

    __tablename__ = "rounds"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("round_plans.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    week_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("weeks.id", ondelete="CASCADE"),
                                               index=True)
    number: Mapped[int]
    day: Mapped[str] = mapped_column(String(10))  # ISO date of the round (local)
    vehicle_ref: Mapped[str] = mapped_column(String(64))  # "van:<id>" or "car:<volunteer id>"
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vehicles.id"))
    vehicle_owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("volunteers.id"))
    vehicle_label: Mapped[str] = mapped_column(String(200))
    capacity_kg: Mapped[float]
    refrigerated: Mapped[bool]
    driver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus), default=RoundStatus.open)
    claimed_at: Mapped[datetime | None]
    km: Mapped[float]
    duration_min: Mapped[float]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    peak_load_kg: Mapped[float]
    kg_handled: Mapped[float]
    start_lat: Mapped[float]
    start_lon: Mapped[float]
    end_lat: Mapped[float]
    end_lon: Mapped[float]


class RoundStop(IdMixin, Base):
    """One visit of a round, in order: what to load or unload, where and when."""

    __tablename__ = "round_stops"

    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                                index=True)
    position: Mapped[int]
    kind: Mapped[StopKind] = mapped_column(_enum(StopKind))
    farmer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("farmers.id"))
    distribution_point_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("distribution_points.id"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    arrival_at: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    kg_loaded: Mapped[float]
    kg_delivered: Mapped[float]
    load_after_kg: Mapped[float]
    refrigerated: Mapped[bool]
    # [{"product", "kg"}]: what to load or hand over here
    items: Mapped[list[Any]]
    # solver stop ids served by this visit (a re-plan rebuilds the routes from them)
    refs: Mapped[list[Any]]
    status: Mapped[StopStatus] = mapped_column(_enum(StopStatus), default=StopStatus.pending)
    done_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(1000))


class UnservedStop(IdMixin, Base):
    """A pick-up or delivery no round could take, with the reason in French and English."""

    __tablename__ = "unserved_stops"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("round_plans.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    week_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("weeks.id", ondelete="CASCADE"),
                                               index=True)
    ref: Mapped[str] = mapped_column(String(120))
    kind: Mapped[StopKind] = mapped_column(_enum(StopKind))
    farmer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("farmers.id"))
    distribution_point_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("distribution_points.id"))
    name: Mapped[str] = mapped_column(String(200))
    kg: Mapped[float]
    reason: Mapped[str] = mapped_column(String(40))
    message_fr: Mapped[str] = mapped_column(String(500))
    message_en: Mapped[str] = mapped_column(String(500))
