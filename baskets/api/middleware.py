"""ASGI middlewares that keep the server standing: admission control, body limits while
streaming, security headers, and an access log without personal query values.

Admission control is what keeps a burst from wedging a worker. Sync endpoints and the sync
session dependency run on a thread pool; a request holds a database connection from its first
query until its commit, which needs a thread again. With more requests in flight than
connections, threads pile up waiting for connections while the requests that hold them wait
for a thread to commit. So each process admits at most as many requests as it has
connections (`Settings.request_concurrency`), lets a bounded number wait a bounded time, and
answers the rest 503 with Retry-After at once. When the burst ends, the queue drains within
`queue_timeout_seconds`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from baskets.config import Settings
from baskets.i18n import negotiate_locale

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/v1"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _locale(scope: Scope, settings: Settings) -> str:
    return negotiate_locale(_header(scope, b"accept-language"), settings.default_locale)


async def send_json(send: Send, status: int, body: dict[str, Any],
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with a JSON body (used before the app has run)."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


def busy_body(locale: str) -> dict[str, Any]:
    """The 503 answer's body (the same as ServiceUnavailable's)."""
    message = ("Le service est très sollicité ; réessayez dans un instant. Rien n'a été "
               "enregistré." if locale == "fr" else
               "The service is very busy; try again in a moment. Nothing was saved.")
    return {"error": {"code": "unavailable", "message": message, "details": {"retry_after": 1}}}


def streams(path: str) -> bool:
    """Long-lived event streams: they poll in short sessions of their own, so they do not
    count against the admitted requests (they would hold a slot for minutes)."""
    return path.startswith(API_PREFIX + "/jobs/") and path.endswith("/events")


def exempt(path: str) -> bool:
    """Paths that never wait: the health check, static files and event streams."""
    return path == API_PREFIX + "/health" or path.startswith("/static/") or streams(path)


class AdmissionControl:
    """At most `limit` requests at once in this process; up to `queue` more wait at most
    `wait` seconds for a slot (first come, first served); the others get 503 at once."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limit = settings.request_concurrency()
        self.queue = settings.max_queued_requests
        self.wait = settings.queue_timeout_seconds
        self._slots: asyncio.Semaphore | None = None
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exempt(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made inside the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        if slots.locked():
            if self.waiting >= self.queue:
                await self._busy(scope, send)
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(slots.acquire(), timeout=self.wait)
            except TimeoutError:
                await self._busy(scope, send)
                return
            finally:
                self.waiting -= 1
        else:
            await slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _busy(self, scope: Scope, send: Send) -> None:
        path = scope.get("path", "")
        headers = [(b"retry-after", b"1"), (b"cache-control", b"no-store")]
        if not path.startswith(API_PREFIX):
            text = ("<!doctype html><title>503</title><p>Le service est très sollicité ; "
                    "réessayez dans un instant.</p>").encode()
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(text)).encode()), *headers]})
            await send({"type": "http.response.body", "body": text})
            return
        await send_json(send, 503, busy_body(_locale(scope, self.settings)), headers)


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once a body goes past its limit (FastAPI re-raises HTTP
    exceptions met while reading a body, so the usual 413 answer follows)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"Request too large (at most {limit} bytes).")
        self.limit = limit


def body_limit(path: str, settings: Settings) -> tuple[int, bool]:
    """The byte limit of a request's body, and whether it is a spreadsheet upload."""
    page = not path.startswith(f"{API_PREFIX}/")
    upload = path.startswith(f"{API_PREFIX}/imports/") or (page and path.endswith("/import"))
    return (settings.import_max_bytes + 100_000 if upload else settings.max_body_bytes), upload


class BodySizeLimit:
    """Counts body bytes as they arrive, whatever Content-Length says (or chunked bodies
    without one), multipart included: past the limit, reading stops with a 413."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit, _ = body_limit(path, self.settings)
        received = 0
        overflowed = False
        replaced = False

        async def counted_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    raise BodyTooLarge(limit)
            return message

        async def too_large() -> None:
            locale = _locale(scope, self.settings)
            if not path.startswith(API_PREFIX):
                text = ("<!doctype html><title>413</title><p>"
                        + ("Envoi trop volumineux : rien n'a été enregistré." if locale == "fr"
                           else "Upload too large: nothing was saved.") + "</p>").encode()
                await send({"type": "http.response.start", "status": 413, "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(text)).encode()), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": text})
                return
            message = (f"Requête trop volumineuse (au plus {limit} octets)." if locale == "fr"
                       else f"Request too large (at most {limit} bytes).")
            await send_json(send, 413, {"error": {"code": "payload_too_large",
                                                  "message": message, "details": None}},
                            [(b"connection", b"close")])

        async def watched_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if overflowed and message["type"] == "http.response.start":
                # Whatever the app made of the interrupted body (400, 413, 500), the client
                # gets one clear 413.
                replaced = True
                await too_large()
                return
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Exception:
            if not overflowed:
                raise
            if not replaced:
                replaced = True
                await too_large()


API_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# The interactive documentation loads its own scripts: it keeps the default policy.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


class ApiSecurityHeaders:
    """Security headers on every API answer (pages set theirs in `web.core.PageRoute`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        docs = path.startswith(API_PREFIX + "/docs")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {key.lower() for key, _ in headers}
                extra = [*API_SECURITY_HEADERS, *([] if docs else [API_CSP]),
                         (b"cache-control", b"no-store")]
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


_QUERY_VALUE = re.compile(r"=[^&]*")


def path_without_values(full_path: str) -> str:
    """`/households?q=Dupont&limit=50` -> `/households?q=…&limit=…`: which parameters were
    sent, never their values (names and phones are searched)."""
    path, sep, query = full_path.partition("?")
    return path + sep + _QUERY_VALUE.sub("=…", query) if sep else path


class AccessLogWithoutValues(logging.Filter):
    """uvicorn's access log writes the path with its query string: keep only the names."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], path_without_values(args[2]), *args[3:])
        return True


ACCESS_LOG_FILTER = AccessLogWithoutValues()


def filter_access_log() -> None:
    """Put the filter on uvicorn's access logger (once per process)."""
    logger = logging.getLogger("uvicorn.access")
    if ACCESS_LOG_FILTER not in logger.filters:
        logger.addFilter(ACCESS_LOG_FILTER)
