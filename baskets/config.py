"""All configuration, read once from BASKETS_* environment variables (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
DEMO_SECRET_KEY = "change-me-in-production-0123456789abcdef"


class Settings(BaseSettings):
    """Every setting of the application; the README's configuration table lists them all."""

    model_config = SettingsConfigDict(env_prefix="BASKETS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'baskets.sqlite3'}",
        description="SQLAlchemy URL of the database (embedded SQLite by default).",
    )
    secret_key: str = Field(
        default=DEMO_SECRET_KEY,
        description="Key that signs access tokens and keys the duplicate-household hash.",
    )
    token_ttl_minutes: int = Field(default=480, description="Lifetime of an access token.")
    login_attempts_per_minute: int = Field(
        default=10, description="Login attempts allowed per minute per client and account."
    )
    page_limit_max: int = Field(default=200, description="Largest page a list endpoint returns.")
    max_body_bytes: int = Field(
        default=2_000_000, description="Largest JSON request body accepted by the API (bytes)."
    )
    broker_url: str | None = Field(
        default=None, description="Celery broker (Redis) URL; unset runs jobs in-process."
    )
    road_factor: float = Field(
        default=1.3, description="Road distance over great-circle distance for routing."
    )
    osrm_url: str | None = Field(
        default=None, description="OSRM server base URL for road matrices; unset uses great-circle."
    )
    tiles_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tile server URL template.",
    )
    navigation_url: str = Field(
        default="https://www.google.com/maps/dir/?api=1&destination={lat},{lon}",
        description="Turn-by-turn link of a stop on the round sheet ({lat}, {lon}); opens the "
                    "maps app on iOS and Android. A `geo:` link is offered beside it.",
    )
    default_locale: str = Field(default="fr", description="Language when none is asked for.")
    retention_months: int = Field(
        default=24, description="Households with no contact for this long are erased."
    )
    solver_time_limit_seconds: float = Field(
        default=20.0, description="Time limit of each solve started from the product."
    )
    solver_seed: int = Field(default=1, description="Seed of each solve started from the product.")
    log_level: str = Field(default="INFO", description="Logging level.")
    import_max_bytes: int = Field(
        default=20_000_000, description="Largest spreadsheet accepted by an import (bytes)."
    )
    jobs_queue: str = Field(
        default="baskets", description="Celery queue (Redis list) the jobs are sent to."
    )
    jobs_max_attempts: int = Field(
        default=3, ge=1,
        description="Runs of a job before it is marked failed (no endless redelivery).",
    )
    jobs_soft_time_limit_seconds: float = Field(
        default=300.0, gt=0,
        description="Soft time limit of a job: the solve stores its best answer, timed_out.",
    )
    jobs_hard_time_limit_seconds: float = Field(
        default=360.0, gt=0, description="Hard time limit of a job: the worker process is killed."
    )
    jobs_visibility_timeout_seconds: int = Field(
        default=3600, gt=0,
        description="Seconds before Redis redelivers an unacknowledged job (beyond any solve).",
    )
    jobs_lease_grace_seconds: float = Field(
        default=30.0, gt=0,
        description="Lease of a job beyond its hard time limit, then the reconciler resends it.",
    )
    jobs_inprocess_workers: int = Field(
        default=2, ge=1, description="Threads of the in-process executor (no broker configured)."
    )
    jobs_reconcile_every_seconds: float = Field(
        default=30.0, gt=0, description="Period of `baskets jobs reconcile --loop`."
    )
    jobs_inprocess_reconcile: bool = Field(
        default=True,
        description="Without a broker, the app re-enqueues jobs whose lease expired (a "
        "restart mid-job) at start, then every BASKETS_JOBS_RECONCILE_EVERY_SECONDS.",
    )
    timezone: str = Field(
        default="Europe/Paris",
        description="Local time zone of dates and times read from or written to spreadsheets.",
    )
    perishable_shelf_life_days: int = Field(
        default=5,
        description="Produce keeping this many days or fewer rides in a refrigerated vehicle.",
    )
    delivery_lead_minutes: int = Field(
        default=120,
        description=(
            "Deliveries reach a distribution point within this many minutes before it opens."
        ),
    )


def check_production_ready(settings: Settings) -> None:
    """Refuse the demo secret key anywhere but the embedded SQLite database."""
    if settings.secret_key == DEMO_SECRET_KEY and not settings.database_url.startswith("sqlite"):
        raise RuntimeError(
            "BASKETS_SECRET_KEY garde sa valeur de démonstration : définissez une clé secrète "
            "longue et aléatoire avant d'utiliser une autre base que SQLite. / "
            "BASKETS_SECRET_KEY still has its demo value: set a long random secret key before "
            "using a database other than the embedded SQLite."
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (tests build their own Settings instead)."""
    return Settings()
