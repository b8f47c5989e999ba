"""Base models: inputs reject unknown fields; outputs are read from ORM attributes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class InModel(BaseModel):
    """A request body: unknown fields (organisation_id, role, status...) are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text: refuse it here rather than fail on write.
        if _has_nul(value):
            raise ValueError("Caractère nul interdit | NUL character not allowed")
        return value


class OutModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("Heure invalide, format HH:MM attendu | Invalid time, HH:MM expected")
    return value


Latitude = Annotated[float, Field(ge=-90, le=90, examples=[43.3296])]
Longitude = Annotated[float, Field(ge=-180, le=180, examples=[5.4206])]
HHMM = Annotated[str, Field(examples=["14:00"]), AfterValidator(_check_hhmm)]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = lundi (Monday) ... 6 = dimanche")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[str, Field(min_length=6, max_length=32, pattern=r"^[0-9 +().-]+$")]


class OpeningSlot(InModel):
    weekday: Weekday
    opens: HHMM
    closes: HHMM

    @model_validator(mode="after")
    def _closes_after_opening(self) -> Self:
        if self.closes <= self.opens:
            raise ValueError(
                "L'heure de fermeture doit suivre l'heure d'ouverture | "
                "Closing time must be after opening time"
            )
        return self


class AvailabilitySlot(InModel):
    weekday: Weekday
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError(
                "La fin du créneau doit suivre son début | A slot must end after it starts"
            )
        return self


Skills = dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[int, Field(ge=1, le=5)]]
