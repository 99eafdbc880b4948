"""The README lists every setting, and starts with the two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

from casebook.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in README, setting.name


def test_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    assert blocks[0].strip().endswith("casebook serve")
    assert blocks[1].strip() == "bash scripts/test"
