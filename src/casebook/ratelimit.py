"""Fixed-window rate limits, shared by every casebook process of one machine.

Windows are aligned to the clock (a 10 s period starts at each multiple of 10 s
since the epoch), as Datadog's ``X-RateLimit-Period``/``X-RateLimit-Reset``
headers describe. Counts live in a small memory-mapped table that all worker
processes serving the same database on this machine open, so the limit holds
across ``--workers``; each update holds an ``flock`` on the table for a few
microseconds. Several machines on one PostgreSQL count separately: N nodes
admit up to N times the limit (documented in docs/security.md).

The table has a fixed number of slots; a key hashes to a short run of them. A
slot whose window has passed is free for another key, and if every slot of the
run is busy in the current window the oldest is taken over, which can only
make a limit more lenient, never stricter, for the keys involved.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import re
import stat
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from casebook.core.errors import InvalidRequestError

_SLOT = struct.Struct("<QQQQ")  # fingerprint, window number, count, unused
_PROBE = 8


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str, setting: str) -> RateLimit | None:
        """``"300/10s"`` -> RateLimit(300, 10); ``"off"`` -> None."""
        if text.strip().lower() == "off":
            return None
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*s\s*", text)
        if match is None or int(match[1]) < 1 or int(match[2]) < 1:
            raise InvalidRequestError(
                f"{setting} must look like 300/10s (requests/seconds) or off, got {text!r}"
            )
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    period: int
    remaining: int
    reset_after: int  # whole seconds until the window ends


class RateLimiter:
    """Counts hits per name and window in a table shared through ``path``."""

    def __init__(self, path: Path, *, slots: int = 4096) -> None:
        self.path = path
        self.slots = slots
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._map: mmap.mmap | None = None

    def _table(self) -> tuple[int, mmap.mmap]:
        if self._map is None or self._fd is None:
            size = self.slots * _SLOT.size
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            if os.fstat(fd).st_size != size:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    if os.fstat(fd).st_size != size:
                        os.ftruncate(fd, size)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            self._fd, self._map = fd, mmap.mmap(fd, size)
        return self._fd, self._map

    def hit(
        self, name: str, limit: RateLimit, *, cost: int = 1, now: float | None = None
    ) -> Decision:
        """Count ``cost`` hits of ``name`` (0 only looks) and say whether they fit the limit.

        A refused hit is not counted.
        """
        now = time.time() if now is None else now
        window = int(now // limit.seconds) + 1  # +1: window 0 marks an unused slot
        reset_after = max(1, int(-(-((window * limit.seconds) - now) // 1)))
        fingerprint = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest()) or 1
        with self._lock:
            fd, table = self._table()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                offset = self._slot(table, fingerprint, window)
                _, slot_window, count, _ = _SLOT.unpack_from(table, offset)
                if slot_window != window:
                    count = 0
                allowed = count + cost <= limit.requests
                if allowed and cost:
                    count += cost
                    _SLOT.pack_into(table, offset, fingerprint, window, count, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return Decision(
            allowed=allowed if cost else count < limit.requests,
            limit=limit.requests,
            period=limit.seconds,
            remaining=max(0, limit.requests - count),
            reset_after=reset_after,
        )

    def _slot(self, table: mmap.mmap, fingerprint: int, window: int) -> int:
        start = fingerprint % self.slots
        free: int | None = None
        oldest: tuple[int, int] | None = None
        for i in range(_PROBE):
            offset = ((start + i) % self.slots) * _SLOT.size
            slot_fp, slot_window, _, _ = _SLOT.unpack_from(table, offset)
            if slot_fp == fingerprint:
                return offset
            if free is None and (slot_fp == 0 or slot_window < window):
                free = offset
            if oldest is None or slot_window < oldest[0]:
                oldest = (slot_window, offset)
        if free is not None:
            _SLOT.pack_into(table, free, fingerprint, 0, 0, 0)
            return free
        assert oldest is not None
        _SLOT.pack_into(table, oldest[1], fingerprint, 0, 0, 0)
        return oldest[1]

    def close(self) -> None:
        with self._lock:
            if self._map is not None:
                self._map.close()
                self._map = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def table_path(database: str, sqlite_path: Path | None) -> Path:
    """Beside the SQLite file; for PostgreSQL, in a private folder of the temp dir."""
    if sqlite_path is not None:
        return sqlite_path.with_name(sqlite_path.name + "-ratelimit")
    uid = os.getuid()
    folder = Path(tempfile.gettempdir()) / f"casebook-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        raise InvalidRequestError(f"{folder} must be a private folder of this user")
    digest = hashlib.sha256(database.encode()).hexdigest()[:16]
    return folder / f"ratelimit-{digest}"
