"""The pytest fixtures: ``casebook_emulator`` (session) and ``casebook`` (each test).

Kept light: nothing of the server is imported until a test asks for a fixture, so the
plugin costs nothing to the test suites that do not use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from casebook.testing.client import CasebookOrg

URL_VARIABLE = "CASEBOOK_EMULATOR_URL"


@pytest.fixture(scope="session")
def casebook_emulator() -> Iterator[str]:
    """The base URL of an emulator for this session (of this xdist worker): the one at
    ``CASEBOOK_EMULATOR_URL``, or one started in a thread on a free port."""
    external = os.environ.get(URL_VARIABLE)
    if external:
        yield external.rstrip("/")
        return
    from casebook.emulator import build
    from casebook.emulator.server import ThreadedEmulator

    emulator = ThreadedEmulator(build()).start()
    try:
        yield emulator.base_url
    finally:
        emulator.stop()


@pytest.fixture
def casebook(casebook_emulator: str) -> Iterator[CasebookOrg]:
    """A fresh organisation of the session's emulator, emptied after the test."""
    from casebook.testing.client import CasebookOrg

    org = CasebookOrg(casebook_emulator)
    try:
        yield org
    finally:
        try:
            org.reset()
        finally:
            org.close()
