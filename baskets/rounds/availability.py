"""A round against a volunteer's weekly availability, and day names for the claim messages.

Kept apart from the rounds service so claims read the same rule as any page that warns
before a claim.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

DAYS = (("lundi", "Monday"), ("mardi", "Tuesday"), ("mercredi", "Wednesday"),
        ("jeudi", "Thursday"), ("vendredi", "Friday"), ("samedi", "Saturday"),
        ("dimanche", "Sunday"))


def day_fr(moment: datetime) -> str:
    """'jeudi 10/12' of a local moment."""
    return f"{DAYS[moment.weekday()][0]} {moment.day}/{moment.month:02d}"


def day_en(moment: datetime) -> str:
    """'Thursday 10/12' of a local moment."""
    return f"{DAYS[moment.weekday()][1]} {moment.day}/{moment.month:02d}"


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes)


def day_slots(availability: list[Any], weekday: int) -> list[tuple[str, str]]:
    """The volunteer's ("HH:MM", "HH:MM") slots of one weekday, in order."""
    return sorted((str(a["start"]), str(a["end"])) for a in availability
                  if int(a["weekday"]) == weekday)


def within_availability(availability: list[Any], start: datetime, end: datetime) -> bool:
    """Whether the local span [start, end] of one day is covered by the volunteer's slots of
    that weekday (slots that touch or overlap count as one)."""
    begin = start.hour * 60 + start.minute
    finish = begin + math.ceil((end - start).total_seconds() / 60 - 1e-9)
    covered_to = begin
    for slot_start, slot_end in day_slots(availability, start.weekday()):
        if _minutes(slot_start) > covered_to:
            break
        covered_to = max(covered_to, _minutes(slot_end))
    return covered_to >= finish
