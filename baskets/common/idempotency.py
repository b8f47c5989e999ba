"""Idempotent creates: the same Idempotency-Key replays the stored response.

The same key with a different body is refused (422) rather than silently replayed. Stored
answers may hold personal data: they are kept `BASKETS_IDEMPOTENCY_TTL_HOURS` (24 h), and an
erasure purges the ones describing the erased record (`forget_resource`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from baskets.common.models import IdempotencyRecord
from baskets.common.scope import Actor
from baskets.config import Settings, get_settings
from baskets.db import utcnow
from baskets.errors import InvalidInput

SETTINGS_KEY = "baskets.jobs.settings"  # the same key the request's session carries


def _ttl(session: Session) -> timedelta:
    settings: Settings = session.info.get(SETTINGS_KEY) or get_settings()
    return timedelta(hours=settings.idempotency_ttl_hours)


def forget_resource(session: Session, resource_id: uuid.UUID) -> int:
    """Delete the stored answers describing `resource_id` (its erasure); how many."""
    result = session.execute(delete(IdempotencyRecord)
                             .where(IdempotencyRecord.resource_id == resource_id)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(session: Session, *, now: datetime, ttl: timedelta,
                  user_id: uuid.UUID | None = None) -> int:
    """Delete records older than `ttl` (of one user, or all); how many."""
    query = delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - ttl)
    if user_id is not None:
        query = query.where(IdempotencyRecord.user_id == user_id)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def create_once(
    session: Session,
    actor: Actor,
    *,
    key: str | None,
    route: str,
    payload: BaseModel | None,
    create: Callable[[], BaseModel],
    status_code: int = 201,
) -> JSONResponse:
    """Run `create` unless this key already did; return its (stored) response."""
    body_hash = hashlib.sha256(
        (route + "\n" + (payload.model_dump_json() if payload is not None else "")).encode()
    ).hexdigest()
    if key:
        if len(key) > 200:
            raise InvalidInput(
                "La clé d'idempotence dépasse 200 caractères.",
                "The idempotency key is longer than 200 characters.",
            )
        ttl = _ttl(session)
        now = utcnow()
        previous = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == actor.user.id, IdempotencyRecord.key == key
            )
        ).first()
        if previous is not None and previous.created_at < now - ttl:
            # Expired: forgotten, as if never used (the user's other stale keys go too).
            purge_expired(session, now=now, ttl=ttl, user_id=actor.user.id)
            previous = None
        if previous is not None:
            if previous.request_hash != body_hash:
                raise InvalidInput(
                    "Cette clé d'idempotence a déjà servi pour une autre requête.",
                    "This idempotency key was already used for a different request.",
                )
            return JSONResponse(
                previous.response,
                status_code=previous.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
    body = jsonable_encoder(create())
    if key:
        session.add(
            IdempotencyRecord(
                user_id=actor.user.id,
                key=key,
                route=route,
                request_hash=body_hash,
                status_code=status_code,
                response=body,
                resource_id=_resource_id(body),
            )
        )
        session.flush()
    return JSONResponse(body, status_code=status_code)


def _resource_id(body: object) -> uuid.UUID | None:
    value = body.get("id") if isinstance(body, dict) else None
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
