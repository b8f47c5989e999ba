"""Farmers, the product catalogue and weekly supply lots."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from baskets.db import Base, IdMixin


class Category(enum.StrEnum):
    vegetable = "vegetable"
    fruit = "fruit"
    egg = "egg"
    dairy = "dairy"
    grain = "grain"
    legume = "legume"


class Farmer(IdMixin, Base):
    __tablename__ = "farmers"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14))
    address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    # Whom a driver calls at pick-up time.
    contact_phone: Mapped[str | None] = mapped_column(String(32))


class Product(IdMixin, Base):
    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[Category] = mapped_column(
        Enum(Category, native_enum=False, length=32, validate_strings=True)
    )
    unit_kg: Mapped[float | None]
    shelf_life_days: Mapped[int]


class SupplyLot(IdMixin, Base):
    __tablename__ = "supply_lots"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    week_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("weeks.id"), index=True)
    farmer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("farmers.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    quantity_kg: Mapped[float]
    units: Mapped[int | None]
    harvest_date: Mapped[date]
    pickup_start: Mapped[datetime]
    pickup_end: Mapped[datetime]
    price_per_kg: Mapped[float]
