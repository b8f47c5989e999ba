"""The site's router: static assets, every page, and a French 404 for unknown pages.

baskets.api.app includes `router` once, after the API routers; /api/ paths are never matched
here, so the API keeps its JSON answers (and its own 404s).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.convertors import Convertor, register_url_convertor

from baskets.errors import NotFound
from baskets.web.core import STATIC_DIR, OptionalActorDep, PageRoute
from baskets.web.pages import (
    association,
    common,
    coordinator,
    imports,
    jobs,
    matching,
    people,
    rounds,
)


class _PagePath(Convertor[str]):
    """Any path outside /api/ (the API answers its own unknown paths in JSON)."""

    regex = r"(?!api/).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


register_url_convertor("page", _PagePath())

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
# imports first: its /households/import must win over /households/{household_id}.
for pages in (common, imports, coordinator, jobs, association, people, rounds, matching):
    router.include_router(pages.router)


@router.api_route("/{path:page}", methods=["GET", "POST"])
def not_found(request: Request, path: str, actor: OptionalActorDep) -> Response:
    """Any other page: the French 404 page (with the menu when logged in)."""
    raise NotFound("Page", "Page")
