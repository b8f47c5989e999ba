"""Weights of the rounds objective, shared by the model, the VROOM stage and re-insertion.

The objective is in metres (1 km = 1000): a dropped job costs `DROP_PENALTY` (more than any
plan), a used vehicle its fixed cost (km x 1000), each metre driven 1 and each second of a
round (driving, service, breaks and waiting) `DURATION_COST`.
"""

from __future__ import annotations

__all__ = ["DROP_PENALTY", "DURATION_COST"]

DROP_PENALTY = 10_000_000_000  # > any plan's km, fixed costs and durations (10 million km)
DURATION_COST = 8  # per second of round: an hour of a driver's time weighs like 28.8 km
