"""The emulator's organisations: one in-memory database, clock, id generator, outbox,
fault list and request journal per ``DD-API-KEY`` value.

Each organisation is a copy of one migrated template (``storage.memory``) served by its
own ``create_app`` — the app ``casebook serve`` runs, so the same routes, validation and
error bodies — and nothing is shared between two organisations but the template: the
same fixed ids may be seeded in both. Emptying an organisation drops it whole; the
next request with its keys makes a fresh one (a copy of the template, a few ms).
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import hashlib
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casebook.config import Settings, load_settings
from casebook.core.clock import rfc3339, using
from casebook.core.errors import InvalidRequestError
from casebook.core.faults import Faults
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.http.routing import CasebookApp
from casebook.storage.memory import MemoryStore

BOOTSTRAP_US = 1_577_836_800_000_000
"""2020-01-01T00:00:00Z: when every organisation and its admin were made, as far as their
answers say, so that they read the same in every run (the first request makes them)."""

JOURNAL_SIZE = 1_000
"""Requests each organisation's journal keeps (the oldest go first)."""
OUTBOX_SIZE = 10_000
_KEY = re.compile(r"[\x21-\x7e]{1,256}")
SECRET = "casebook-emulator-secret-not-for-production"  # noqa: S105 -- fixed so signatures repeat

_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)
_UNIT_US = {
    "weeks": 604_800_000_000,
    "days": 86_400_000_000,
    "hours": 3_600_000_000,
    "minutes": 60_000_000,
    "seconds": 1_000_000,
}


def parse_duration(text: str) -> int:
    """An ISO 8601 duration (``P1D``, ``PT90M``, ``-P1W``) in microseconds; years and
    months are refused (their length depends on the date)."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match[unit] for unit in _UNIT_US) or text.endswith("T"):
        raise InvalidRequestError(
            f"invalid advance {text!r}: an ISO 8601 duration in weeks, days, hours, minutes "
            "and seconds, such as P1D or PT1H30M"
        )
    total = sum(float(match[unit] or 0) * us for unit, us in _UNIT_US.items())
    return -int(total) if match["sign"] else int(total)


def parse_instant(text: Any) -> int:
    """An RFC 3339 instant with its offset, in microseconds since the epoch."""
    try:
        at = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidRequestError(
            f"invalid freeze {text!r}: an RFC 3339 instant with an offset, "
            "such as 2026-01-01T00:00:00Z"
        )
    delta = at - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return delta // datetime.timedelta(microseconds=1)


def emulator_settings() -> Settings:
    """``serve``'s defaults, without the limits a test suite would trip over."""
    return dataclasses.replace(
        load_settings({}),
        secret_key=SECRET,
        rate_limit=None,
        auth_failure_limit=None,
        faults=Faults(),
        metrics=False,
        allow_private_webhooks=True,
        delivery_worker=False,
        auth_cache_seconds=0.0,  # a revoked key fails at once
    )


class Clock:
    """An organisation's time: real, real shifted by what was advanced, or frozen."""

    def __init__(self) -> None:
        self.frozen_at: int | None = None
        self.offset_us = 0

    def now(self) -> int:
        if self.frozen_at is not None:
            return self.frozen_at
        return time.time_ns() // 1000 + self.offset_us

    def freeze(self, at: int) -> None:
        self.frozen_at = at

    def advance(self, us: int) -> None:
        if self.frozen_at is not None:
            self.frozen_at += us
        else:
            self.offset_us += us

    def real(self) -> None:
        self.frozen_at, self.offset_us = None, 0

    def describe(self) -> dict[str, Any]:
        return {"now": rfc3339(self.now()), "frozen": self.frozen_at is not None}


class Ids:
    """Version 4 UUIDs from a seeded generator: the same seed, the same ids in order."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 -- reproducible on purpose, not secret

    def __call__(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


@dataclass(slots=True)
class Fault:
    """What to do instead of (or before) answering the requests it matches."""

    id: str
    operation_id: str | None
    path: str | None
    status: int | None
    latency_ms: int
    count: int | None
    probability: float | None
    reset_seconds: int = 1  # a 429's X-RateLimit-Reset: what the official clients wait

    def matches(self, operation_id: str | None, path: str) -> bool:
        if self.operation_id is not None and self.operation_id != operation_id:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation_id": self.operation_id,
            "path": self.path,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "count": self.count,
            "probability": self.probability,
            "reset_seconds": self.reset_seconds,
        }


@dataclass(eq=False)
class Tenant:
    """One organisation of the emulator, as its ``DD-API-KEY`` names it."""

    api_key: str
    store: MemoryStore
    app: CasebookApp
    clock: Clock
    ids: Ids | None
    app_keys: set[str] = field(default_factory=set)
    outbox: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=OUTBOX_SIZE))
    journal: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=JOURNAL_SIZE))
    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests_seen: int = 0  # numbers the X-Request-Id of requests that bring none

    def request_id(self) -> str:
        """The next request's id: ``emulator-<n>``, counted per organisation, so that error
        bodies (``meta.request_id``) repeat from run to run."""
        self.requests_seen += 1
        return f"emulator-{self.requests_seen:08d}"

    def context(self) -> Any:
        """``now_us`` and ``new_id`` as this organisation has them, for a block of code."""
        return using(self.clock.now, self.ids)

    def org_id(self) -> str:
        with self.store.read() as tx:
            org = tx.orgs.by_name(users_domain.DEFAULT_ORG)
        assert org is not None
        return org.id


def well_formed(key: str | None) -> bool:
    """A key the emulator may make an organisation or a user's key of: 1 to 256 printable
    ASCII characters, no spaces."""
    return key is not None and _KEY.fullmatch(key) is not None


class Tenants:
    """Every organisation of one emulator, made on first use of its API key."""

    def __init__(
        self,
        *,
        ids_seed: int | None = None,
        on_create: Callable[[Tenant], None] | None = None,
        template: MemoryStore | None = None,
        persist: Path | None = None,
    ) -> None:
        self.template = template or MemoryStore.template()
        self.persist = persist
        self.settings = emulator_settings()
        self.ids_seed = ids_seed
        self.on_create = on_create
        self._tenants: dict[str, Tenant] = {}
        self._lock = threading.Lock()
        self.anonymous = self._app(self.template.copy())  # answers keyless requests: 403

    def _app(self, store: MemoryStore) -> CasebookApp:
        return create_app(self.settings, store, ui=False)  # an API stand-in: no pages

    def get(self, api_key: str) -> Tenant | None:
        return self._tenants.get(api_key)

    def all(self) -> list[Tenant]:
        with self._lock:
            return list(self._tenants.values())

    def tenant(self, api_key: str, app_key: str) -> Tenant:
        """The organisation of ``api_key`` (made now if new), with ``app_key`` one of its
        admin's keys (registered now if the organisation has not seen it)."""
        tenant = self._tenants.get(api_key)
        if tenant is None:
            with self._lock:
                tenant = self._tenants.get(api_key)
                if tenant is None:
                    tenant = self._create(api_key, app_key)
                    self._tenants[api_key] = tenant
        if app_key not in tenant.app_keys:
            with tenant.lock:
                if app_key not in tenant.app_keys:
                    with tenant.context():
                        users_domain.add_admin_app_key(tenant.store, SECRET, app_key=app_key)
                    tenant.app_keys.add(app_key)
        return tenant

    def _file(self, api_key: str) -> Path | None:
        if self.persist is None:
            return None
        return self.persist / f"{hashlib.sha256(api_key.encode()).hexdigest()[:32]}.db"

    def _create(self, api_key: str, app_key: str) -> Tenant:
        saved = self._file(api_key)
        loaded = saved is not None and saved.exists()
        store = MemoryStore.load(saved) if saved is not None and loaded else self.template.copy()
        ids = None if self.ids_seed is None else Ids(self.ids_seed)
        tenant = Tenant(api_key=api_key, store=store, app=self.anonymous, clock=Clock(), ids=ids)
        if self.ids_seed is not None:
            tenant.rng = random.Random(self.ids_seed)  # noqa: S311 -- reproducible faults
        # The organisation, its admin and its connections: made at BOOTSTRAP_US with ids
        # drawn from its API key, so they are the same in every run, seeded or not.
        drawn = Ids(int.from_bytes(hashlib.sha256(api_key.encode()).digest()[:8], "big"))
        with using(lambda: BOOTSTRAP_US, drawn):
            tenant.app = self._app(store)
            users_domain.bootstrap(store, SECRET, api_key=api_key, app_key=app_key)
            from casebook.emulator.outbox import connect  # it needs Tenant: imported late

            connect(tenant, stored=not loaded)
        tenant.app_keys.add(app_key)
        if self.on_create is not None and not loaded:
            self.on_create(tenant)
        return tenant

    def save(self) -> int:
        """Write every organisation to its file under ``persist``; how many."""
        tenants = self.all()
        for tenant in tenants:
            path = self._file(tenant.api_key)
            if path is not None:
                tenant.store.save(path)
        return len(tenants) if self.persist is not None else 0

    def reseed(self, tenant: Tenant, seed: int | None) -> None:
        """Take the organisation's next ids from a generator seeded with ``seed`` (None:
        random ids again)."""
        tenant.ids = None if seed is None else Ids(seed)
        tenant.requests_seen = 0
        if seed is not None:
            tenant.rng = random.Random(seed)  # noqa: S311 -- reproducible faults

    def drop(self, api_key: str) -> bool:
        """Forget the organisation of ``api_key``: its next request starts a fresh one."""
        with self._lock:
            tenant = self._tenants.pop(api_key, None)
        saved = self._file(api_key)
        if saved is not None:
            saved.unlink(missing_ok=True)
        if tenant is not None:
            tenant.store.close()
        return tenant is not None

    def drop_all(self) -> int:
        with self._lock:
            dropped = list(self._tenants.values())
            self._tenants.clear()
        if self.persist is not None:
            for saved in self.persist.glob("*.db"):
                saved.unlink()
        for tenant in dropped:
            tenant.store.close()
        return len(dropped)
