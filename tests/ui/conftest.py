"""Fixtures of the web UI's tests: signed-in test clients (``tests/support/ui.py``) and, for
the browser tests, Debian's Chromium driven by Playwright against a real ``casebook serve``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from casebook.config import Settings
from casebook.storage import Store
from tests.support.ui import Ui, admin_ui_of

CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")


@pytest.fixture
def admin_ui(settings: Settings, store: Store) -> Iterator[Ui]:
    """The bootstrap admin of ``default``, signed in, and nothing else in the database."""
    yield from admin_ui_of(settings, store)


# --- the browser tests ---------------------------------------------------------------------
# Playwright's sync API keeps an event loop running in the thread that started it, so each
# browser test starts and stops its own (about a second): no later test in the same xdist
# worker finds a loop it did not start (``asyncio.run`` refuses to run inside one).
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()
SCREENSHOTS = Path("test-results")


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own download cannot be reached from these
    machines; ``scripts/test`` installs the package)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context; a failed test leaves its screenshot in ``test-results/``."""
    context = browser.new_context()
    opened = context.new_page()
    try:
        yield opened
    finally:
        if request.node.stash.get(_FAILED, False):
            SCREENSHOTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid)
            opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        context.close()
