"""The layers of docs/architecture.md hold: import-linter's contracts (pyproject.toml) are kept,
and they do catch a wrong import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_contracts_are_kept() -> None:
    result = _lint(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_wrong_import_breaks_them(tmp_path: Path) -> None:
    """The domain reaching up into the HTTP layer (or down into a driver, or out to the
    network) fails the check."""
    shutil.copytree(ROOT / "src" / "casebook", tmp_path / "src" / "casebook")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    cases = tmp_path / "src" / "casebook" / "domain" / "cases.py"
    cases.write_text(
        cases.read_text()
        + "\nimport sqlite3  # noqa\nimport httpx2  # noqa\nimport casebook.http.app  # noqa\n"
    )
    result = _lint(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "2 broken" in result.stdout, result.stdout
    assert "casebook.domain.cases -> casebook.http.app" in result.stdout, result.stdout
    assert "casebook.domain.cases -> sqlite3" in result.stdout, result.stdout
    assert "casebook.domain.cases -> httpx2" in result.stdout, result.stdout
