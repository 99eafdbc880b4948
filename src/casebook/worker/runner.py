"""The worker's loop, inside ``casebook serve``'s event loop.

Each process tries to take the ``delivery-worker`` lease every ``POLL_SECONDS``; the
holder renews it each time and handles the outbox; the others wait. When the holder
stops (or dies), its lease expires after ``LEASE_SECONDS`` and another process takes
over, so one deployment (several processes, several machines on one PostgreSQL) has
one worker at a time, with no extra service. Database calls run in a thread, so the
API's event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from casebook.core.clock import now_us
from casebook.domain import events
from casebook.storage.base import Store

LEASE = "delivery-worker"
LEASE_SECONDS = 10.0
POLL_SECONDS = 0.2
BATCH = 100

log = logging.getLogger("casebook.worker")


class DeliveryWorker:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.holder = secrets.token_hex(8)
        self.leading = False
        self._renew_at = 0  # when to renew the lease we hold (half its time)

    def _step(self) -> int:
        """One turn: take the lease, or renew it once half its time has passed; if ours,
        handle a batch of events. Idle, a turn is one read: writers (SQLite has one at a
        time) meet the worker's write every few seconds, not every turn."""
        now = now_us()
        if not self.leading or now >= self._renew_at:
            ttl = int(LEASE_SECONDS * 1_000_000)
            self.leading = events.take_lease(self.store, LEASE, self.holder, now, ttl)
            self._renew_at = now + ttl // 2
        if not self.leading or not events.pending_events(self.store, at_least=1):
            return 0
        return events.handle_events(self.store, limit=BATCH)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            handled = 0
            try:
                handled = await asyncio.to_thread(self._step)
            except Exception:  # a busy or unreachable database: try again next turn
                log.exception("delivery worker: a turn failed")
            if handled < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        if self.leading:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(events.release_lease, self.store, LEASE, self.holder)


@contextlib.asynccontextmanager
async def running(store: Store):  # type: ignore[no-untyped-def]
    """Run a worker for as long as the context lasts (the app's lifespan)."""
    worker = DeliveryWorker(store)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await task
