"""Marks sent by a field page's offline queue: "Fait", "Problème", "Retiré".

The page posts its usual form (CSRF token included) from JavaScript with an
`Idempotency-Key` header; the answer is JSON instead of a redirect. The key is recorded with
the answer (`baskets.common.idempotency`), so a mark replayed after a lost answer or a
reconnection changes nothing and gets the first answer back. A refusal comes back as the
API's error shape, in the page's language, for the page to show to the person: a queued mark
is never dropped silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baskets.api.errors import error_body
from baskets.common.idempotency import create_once
from baskets.common.scope import Actor
from baskets.errors import DomainError
from baskets.web.core import translator_for

IDEMPOTENCY_HEADER = "Idempotency-Key"


class MarkIn(BaseModel):
    """What the mark asked for (part of the idempotency fingerprint)."""

    outcome: str
    note: str | None = None


class MarkOut(BaseModel):
    """What the server holds after the mark."""

    id: uuid.UUID
    state: str  # "done", "problem", "collected", "not_collected"
    at: datetime | None


def queued(request: Request) -> bool:
    """Whether this post comes from the offline queue (it carries an idempotency key)."""
    return IDEMPOTENCY_HEADER in request.headers


def answer(request: Request, session: Session, actor: Actor, *, route: str, payload: MarkIn,
           mark: Callable[[], MarkOut]) -> Response:
    """Apply `mark` once per idempotency key and answer JSON; a refusal answers the error
    (nothing written), a race on the same key asks the page to retry."""
    try:
        return create_once(session, actor, key=request.headers.get(IDEMPOTENCY_HEADER),
                           route=route, payload=payload, create=mark, status_code=200)
    except DomainError as exc:
        session.rollback()
        locale = translator_for(request).locale
        return JSONResponse(error_body(exc.code, exc.message(locale), exc.details),
                            status_code=exc.status_code)
    except IntegrityError:
        # The same key sent twice at once (two tabs): the other one stores it; retrying
        # shortly gets its answer.
        session.rollback()
        message = translator_for(request).gettext("Réessayez dans un instant.")
        return JSONResponse(error_body("retry", message, None), status_code=503,
                            headers={"Retry-After": "2"})
