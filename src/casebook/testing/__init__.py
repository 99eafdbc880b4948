"""casebook's pytest plugin (entry point ``pytest11``): an emulator per test session and a
fresh organisation per test, for projects that test their Datadog case integration.

``casebook`` (function scope) is a ``CasebookOrg``: ``configuration`` (a ready
``datadog_api_client.Configuration``), ``base_url``, ``api_key``, ``app_key``,
``seed(...)``, ``outbox()``, ``requests()``, ``clock`` and ``faults``. The emulator runs
in a thread of the test process on a free port (one per xdist worker: parallel tests
share nothing), or is the one at ``CASEBOOK_EMULATOR_URL`` when that is set.
docs/emulator.md shows an example.
"""

from __future__ import annotations

from casebook.testing.client import CasebookOrg, Clock, Faults

__all__ = ["CasebookOrg", "Clock", "Faults"]
