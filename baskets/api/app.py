"""The application factory: settings in, a FastAPI app with its engine and routers out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from baskets.accounts.ratelimit import Throttle
from baskets.accounts.service import HashGate
from baskets.api.errors import error_body, install_error_handlers
from baskets.api.middleware import (
    AdmissionControl,
    ApiSecurityHeaders,
    BodySizeLimit,
    body_limit,
    filter_access_log,
)
from baskets.api.routers import (
    accounts,
    allocation,
    auth,
    households,
    jobs,
    sponsorship,
    supply,
    territory,
)
from baskets.api.routers import engagements as engagements_router
from baskets.api.routers import io as io_router
from baskets.api.routers import rounds as rounds_router
from baskets.api.routers import volunteers as volunteers_router
from baskets.config import Settings, check_production_ready, get_settings
from baskets.db import make_engine, make_session_factory, pool_options
from baskets.i18n import negotiate_locale
from baskets.jobs.executor import InProcessExecutor, ReconcileLoop, make_executor
from baskets.web.routes import router as web_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
API des paniers solidaires : l'équipe du projet alimentaire saisit l'approvisionnement des
producteurs, les associations inscrivent les foyers, les bénévoles s'inscrivent et prennent des
tournées, les entreprises publient leurs offres de mécénat de compétences et les projets leurs
besoins.

Solidarity-baskets API. Messages are in French by default; send `Accept-Language: en` for
English. Errors always have the shape `{"error": {"code", "message", "details"}}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    demo: bool = False,
) -> FastAPI:
    """Build the app; tests pass their own settings and session factory. `demo` is set by
    `baskets demo` only: the published demo key is then accepted on its SQLite database, and
    cookies go without `Secure` over plain HTTP on 127.0.0.1."""
    settings = settings or get_settings()
    check_production_ready(settings, demo=demo)
    logging.basicConfig(level=settings.log_level)
    filter_access_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Threads for sync endpoints and dependencies: well above the admitted requests, so
        # an admitted request always finds a thread to commit and close on.
        import anyio.to_thread

        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, 2 * settings.request_concurrency() + 8)
        # Without a broker the app is its own worker: it takes back jobs a restart left
        # behind, and stops its pool on the way out (running jobs end or are taken back).
        executor = app.state.job_executor
        keeper = None
        if (isinstance(executor, InProcessExecutor) and not executor.inline
                and settings.jobs_inprocess_reconcile):
            keeper = ReconcileLoop(app.state.background_factory, executor, settings).start()
        yield
        if keeper is not None:
            keeper.stop()
        if isinstance(executor, InProcessExecutor):
            executor.shutdown(wait=False)

    app = FastAPI(
        lifespan=lifespan,
        title="baskets",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.demo = demo
    if session_factory is not None:
        background_factory = session_factory
    else:
        engine = engine or make_engine(settings.database_url, **pool_options(settings))
        session_factory = make_session_factory(engine)
        # In-process jobs and the reconciler get a pool of their own: a burst of requests
        # cannot starve them, nor they the requests.
        background_factory = make_session_factory(make_engine(
            settings.database_url, **pool_options(settings, background=True)))
    app.state.session_factory = session_factory
    app.state.background_factory = background_factory
    app.state.job_executor = make_executor(settings, background_factory)
    app.state.throttle = Throttle(settings)
    app.state.hash_gate = HashGate(settings)
    install_error_handlers(app)
    # Outermost last: security headers, then admission, then the streaming body limit.
    app.add_middleware(BodySizeLimit, settings=settings)
    app.add_middleware(AdmissionControl, settings=settings)
    app.add_middleware(ApiSecurityHeaders)

    @app.middleware("http")
    async def limit_body_size(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Refuse bodies whose declared length is over the limit before anything reads them
        # (BodySizeLimit stops the others while they stream). Spreadsheet uploads (API and
        # pages) have their own, larger limit (checked again on the file).
        length = request.headers.get("content-length")
        path = request.url.path
        page = not path.startswith(f"{API_PREFIX}/")
        limit, upload = body_limit(path, settings)
        if length is not None and length.isdigit() and int(length) > limit:
            if page:
                from baskets.web.core import too_large_page

                return too_large_page(request, settings.import_max_bytes if upload else limit)
            locale = negotiate_locale(request.headers.get("accept-language"),
                                      settings.default_locale)
            mb = settings.import_max_bytes // 1_000_000
            message = (
                (f"Fichier trop volumineux (au plus {mb} Mo). Rien n'a été enregistré."
                 if upload else f"Requête trop volumineuse (au plus {limit} octets).")
                if locale == "fr"
                else (f"File too large (at most {mb} MB). Nothing was saved."
                      if upload else f"Request too large (at most {limit} bytes).")
            )
            return JSONResponse(error_body("payload_too_large", message), status_code=413)
        return await call_next(request)

    # async: answered on the event loop, never waiting for a thread or a connection.
    @app.get(f"{API_PREFIX}/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # Before households: /households/duplicates must not be read as /households/{id}.
    app.include_router(io_router.router, prefix=API_PREFIX)
    for router in (
        auth.router,
        accounts.router,
        territory.router,
        supply.router,
        households.router,
        volunteers_router.router,
        sponsorship.router,
        allocation.router,
        jobs.router,
        rounds_router.router,
        engagements_router.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(web_router)
    return app
