"""Fixtures of the browser tests: one live server and one Chromium for the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TILE_PATTERN,
    TILE_PNG,
    Console,
    LiveServer,
    need_chromium,
    start_server,
    watch,
)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    need_chromium()
    yield from start_server(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def browser(live_server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console() -> Console:
    return Console()


def _context(browser: Any, console: Console, **options: Any) -> Any:
    context = browser.new_context(locale="fr-FR", **options)
    context.set_default_timeout(10_000)
    context.route(TILE_PATTERN, lambda route: route.fulfill(
        status=200, content_type="image/png", body=TILE_PNG))
    return context


@pytest.fixture
def page(browser: Any, console: Console) -> Iterator[Any]:
    """A desktop-sized page; the test fails on any console error it logged."""
    context = _context(browser, console, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch(tab, console)
    yield tab
    context.close()
    assert console.errors == [], console.errors


@pytest.fixture
def phone(browser: Any, console: Console) -> Iterator[Any]:
    """A phone-sized page (390 x 844, touch); fails on any console error too."""
    context = _context(browser, console, viewport={"width": 390, "height": 844},
                       device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    watch(tab, console)
    yield tab
    context.close()
    assert console.errors == [], console.errors
