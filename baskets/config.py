"""All configuration, read once from BASKETS_* environment variables (and `.env`)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
DEMO_SECRET_KEY = "change-me-in-production-0123456789abcdef"
MIN_SECRET_KEY_BYTES = 32


class Settings(BaseSettings):
    """Every setting of the application; the README's configuration table lists them all."""

    model_config = SettingsConfigDict(env_prefix="BASKETS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'baskets.sqlite3'}",
        description="SQLAlchemy URL of the database (embedded SQLite by default).",
    )
    secret_key: str = Field(
        default=DEMO_SECRET_KEY,
        description="Master key (at least 32 bytes) from which the keys of access tokens, "
        "form (CSRF) tokens and the duplicate-household hash are derived.",
    )
    token_ttl_minutes: int = Field(default=480, description="Lifetime of an access token.")
    login_attempts_per_minute: int = Field(
        default=10, ge=1,
        description="Login attempts (and sign-ups) allowed per minute from one client address.",
    )
    login_failures_per_account_per_hour: int = Field(
        default=20, ge=1,
        description="Failed logins allowed per hour on one account, whatever the address.",
    )
    login_unknown_attempts_per_minute: int = Field(
        default=30, ge=1,
        description="Logins with e-mails that match no account allowed per minute, all "
        "clients together.",
    )
    duplicate_checks_per_hour: int = Field(
        default=120, ge=1,
        description="Duplicate-household lookups (lists, imports) allowed per hour per user.",
    )
    rate_limit_url: str | None = Field(
        default=None,
        description="Storage of the rate limits shared by all processes (redis://...); unset "
        "uses BASKETS_BROKER_URL, else each process counts in memory.",
    )
    rate_limit_prefix: str = Field(
        default="baskets-limits", description="Key prefix of the rate limits in Redis."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; empty trusts none.",
    )
    password_hash_concurrency: int = Field(
        default=2, ge=1,
        description="Password hashes computed at once per process (the rest wait, then 503).",
    )
    password_hash_wait_seconds: float = Field(
        default=2.0, gt=0,
        description="Longest a login waits for a hashing slot before answering 503.",
    )
    idempotency_ttl_hours: float = Field(
        default=24.0, gt=0,
        description="Hours an Idempotency-Key is remembered (its stored answer replayed).",
    )
    db_pool_size: int = Field(
        default=10, ge=1, description="Database connections kept per process."
    )
    db_max_overflow: int = Field(
        default=5, ge=0,
        description="Extra connections per process beyond the pool (event streams, bursts).",
    )
    db_pool_timeout_seconds: float = Field(
        default=2.0, gt=0,
        description="Longest a request waits for a database connection before answering 503.",
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=5.0, gt=0,
        description="Longest a SQLite write waits for the write lock before answering 503.",
    )
    max_concurrent_requests: int | None = Field(
        default=None, ge=1,
        description="Requests handled at once per process (unset: BASKETS_DB_POOL_SIZE, so "
        "every admitted request gets a connection without waiting).",
    )
    max_queued_requests: int = Field(
        default=200, ge=0,
        description="Requests waiting for a slot per process; beyond, 503 with Retry-After.",
    )
    queue_timeout_seconds: float = Field(
        default=1.0, gt=0,
        description="Longest a request waits for a slot before answering 503 with Retry-After.",
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
    import_max_rows: int = Field(
        default=200_000, ge=1, description="Most data rows a spreadsheet import reads."
    )
    import_max_uncompressed_bytes: int = Field(
        default=200_000_000, ge=1,
        description="Largest uncompressed content of an XLSX workbook (zip bombs refused).",
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


    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The trusted proxies as networks (a bare address is a network of one)."""
        return [ipaddress.ip_network(part.strip(), strict=False)
                for part in self.trusted_proxies.split(",") if part.strip()]

    def request_concurrency(self) -> int:
        """Requests handled at once per process."""
        return self.max_concurrent_requests or self.db_pool_size


def check_production_ready(settings: Settings, *, demo: bool = False) -> None:
    """Refuse to serve with the published demo key (except `baskets demo` on its own SQLite
    database), with a key shorter than 32 bytes, or with more concurrent requests than
    database connections."""
    if settings.secret_key == DEMO_SECRET_KEY and not (
            demo and settings.database_url.startswith("sqlite")):
        raise RuntimeError(
            "BASKETS_SECRET_KEY garde sa valeur de démonstration, publiée : seule la "
            "démonstration (baskets demo, sur sa base SQLite) peut s'en servir. Définissez une "
            "clé longue et aléatoire. / BASKETS_SECRET_KEY still has its published demo value: "
            "only the demo (baskets demo, on its SQLite database) may use it. Set a long "
            "random key."
        )
    if len(settings.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"BASKETS_SECRET_KEY est trop courte : au moins {MIN_SECRET_KEY_BYTES} octets. / "
            f"BASKETS_SECRET_KEY is too short: at least {MIN_SECRET_KEY_BYTES} bytes."
        )
    settings.trusted_proxy_networks()  # a malformed address fails here, at start
    if settings.request_concurrency() > settings.db_pool_size + settings.db_max_overflow:
        raise RuntimeError(
            "BASKETS_MAX_CONCURRENT_REQUESTS dépasse les connexions à la base "
            "(BASKETS_DB_POOL_SIZE + BASKETS_DB_MAX_OVERFLOW). / "
            "BASKETS_MAX_CONCURRENT_REQUESTS exceeds the database connections "
            "(BASKETS_DB_POOL_SIZE + BASKETS_DB_MAX_OVERFLOW)."
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (tests build their own Settings instead)."""
    return Settings()
