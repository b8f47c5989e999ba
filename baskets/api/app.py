"""The application factory: settings in, a FastAPI app with its engine and routers out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from baskets.accounts.ratelimit import SlidingWindowLimiter
from baskets.api.errors import error_body, install_error_handlers
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
from baskets.db import make_engine, make_session_factory
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
) -> FastAPI:
    """Build the app; tests pass their own settings and session factory."""
    settings = settings or get_settings()
    check_production_ready(settings)
    logging.basicConfig(level=settings.log_level)
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Without a broker the app is its own worker: it takes back jobs a restart left
        # behind, and stops its pool on the way out (running jobs end or are taken back).
        executor = app.state.job_executor
        keeper = None
        if (isinstance(executor, InProcessExecutor) and not executor.inline
                and settings.jobs_inprocess_reconcile):
            keeper = ReconcileLoop(app.state.session_factory, executor, settings).start()
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
    if session_factory is None:
        engine = engine or make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    app.state.session_factory = session_factory
    app.state.job_executor = make_executor(settings, session_factory)
    app.state.login_limiter = SlidingWindowLimiter(settings.login_attempts_per_minute)
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_body_size(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Refuse oversized bodies from the declared length before anything reads them.
        length = request.headers.get("content-length")
        # Spreadsheet uploads (API and pages) have their own, larger limit (checked again on
        # the file).
        path = request.url.path
        page = not path.startswith(f"{API_PREFIX}/")
        upload = path.startswith(f"{API_PREFIX}/imports/") or (page and path.endswith("/import"))
        limit = settings.import_max_bytes + 100_000 if upload else settings.max_body_bytes
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

    @app.get(f"{API_PREFIX}/health", tags=["health"])
    def health() -> dict[str, str]:
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
