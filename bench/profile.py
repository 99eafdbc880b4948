"""Where a worker's time goes: ``py-spy record`` under load, summarised.

``record()`` samples one process (``py-spy`` must be on PATH or beside the
Python executable); ``summarise()`` reads py-spy's raw (collapsed) output and
ranks functions by self time (the sampled leaf) and by inclusive time (anywhere
on the stack). A leaf in ``Runner.run`` means the event loop's own C code
(uvloop, httptools): parsing, socket writes, scheduling.

Standalone: ``python -m bench.profile FILE`` prints the summary of a raw profile.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path, *, rate: int = 250) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` for ``seconds`` into ``out`` (raw format); returns the process."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed: pip install py-spy")
    cmd = [
        exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
        "--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['func']} ({match['file']})"


def summarise(path: Path, top: int = 15) -> dict[str, object]:
    """Self and inclusive shares of the busiest functions, as percentages of samples."""
    own: Counter[str] = Counter()
    own_files: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";")]
        total += count
        leaf = frames[-1]
        if leaf.startswith("Runner.run ") or leaf.startswith("run_forever"):
            leaf = "(event loop C code: uvloop/httptools)"
        own[leaf] += count
        own_files[_file(leaf)] += count
        for name in set(frames):
            inclusive[name] += count

    def ranked(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    ours = Counter({k: v for k, v in inclusive.items() if "(casebook/" in k})
    return {
        "samples": total,
        "self": ranked(own),
        "self_by_file": ranked(own_files),
        "inclusive_casebook": ranked(ours),
    }


def _file(name: str) -> str:
    """``func (pkg/mod.py)`` -> ``pkg/mod.py``; library files grouped by package."""
    if not name.endswith(")") or "(" not in name:
        return name
    path = name.rsplit("(", 1)[1][:-1]
    if path.startswith("casebook/"):
        return path
    return path.split("/", 1)[0] + "/*" if "/" in path else path


def format_summary(summary: dict[str, object]) -> str:
    lines = [f"samples: {summary['samples']}"]
    for key, title in (
        ("self", "self time (leaf Python frame; C calls count in their caller):"),
        ("self_by_file", "self time by file:"),
        ("inclusive_casebook", "inclusive time of casebook functions:"),
    ):
        lines.append(title)
        for name, share in summary[key]:  # type: ignore[attr-defined]
            lines.append(f"  {share:5.1f}%  {name}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(
        format_summary(
            summarise(Path(sys.argv[1]), top=int(sys.argv[2]) if len(sys.argv) > 2 else 25)
        )
    )
