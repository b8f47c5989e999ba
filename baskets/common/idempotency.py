"""Idempotent creates: the same Idempotency-Key replays the stored response.

The same key with a different body is refused (422) rather than silently replayed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from baskets.common.models import IdempotencyRecord
from baskets.common.scope import Actor
from baskets.errors import InvalidInput


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
        previous = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == actor.user.id, IdempotencyRecord.key == key
            )
        ).first()
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
            )
        )
        session.flush()
    return JSONResponse(body, status_code=status_code)
