"""The newest migration this code carries, read without loading Alembic.

``/readyz`` compares it with the database's ``alembic_version``. Alembic and
SQLAlchemy would cost each worker ~0.3 s and ~23 MB to load for this one answer, so
the head is read from the migration files themselves: each declares
``revision = "NNNN"`` and ``down_revision = "..."`` at top level (as
``storage.migrate.new_revision`` writes them), and the head is the revision no
other one revises. ``tests/http/test_observability.py`` checks it against
Alembic's own answer.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_ASSIGNMENT = re.compile(r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*["']([^"']+)["']""", re.M)


@functools.cache
def code_head() -> str:
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else revised).add(value)
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()
