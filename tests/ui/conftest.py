"""Fixtures of the web UI's tests: signed-in test clients (``tests/support/ui.py``) and, for
the browser tests, Debian's Chromium driven by Playwright against a real ``casebook serve``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casebook.config import Settings
from casebook.storage import Store
from tests.support.ui import Ui, admin_ui_of

CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")


@pytest.fixture
def admin_ui(settings: Settings, store: Store) -> Iterator[Ui]:
    """The bootstrap admin of ``default``, signed in, and nothing else in the database."""
    yield from admin_ui_of(settings, store)


# --- the browser tests ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright's own download cannot be reached from these machines;
    ``scripts/test`` installs the package)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test does)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}
