"""Scheduled data-protection job: plain functions a scheduler calls (cron via the CLI, or a
Celery beat entry registering `retention` as a task). Each opens its own session and commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder

from baskets.config import Settings, get_settings
from baskets.io import gdpr


def retention(*, months: int | None = None, dry_run: bool = False,
              settings: Settings | None = None) -> dict[str, Any]:
    """Erase households with no contact for `months` (default BASKETS_RETENTION_MONTHS);
    return what was done as counts per organisation (JSON-ready, no personal data)."""
    from baskets.db import make_engine, make_session_factory, unit_of_work

    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            report = gdpr.erase_inactive(session, now=datetime.now(UTC),
                                         months=months or settings.retention_months,
                                         dry_run=dry_run,
                                         idempotency_ttl=timedelta(
                                             hours=settings.idempotency_ttl_hours))
            names = gdpr.organisation_names(session, report)
    finally:
        engine.dispose()
    return jsonable_encoder(report.as_dict(names))  # type: ignore[no-any-return]
