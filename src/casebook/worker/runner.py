"""The worker's loop, inside ``casebook serve``'s event loop.

Each process tries to take the ``delivery-worker`` lease every ``POLL_SECONDS``; the
holder renews it each time and handles the outbox; the others wait. When the holder
stops (or dies), its lease expires after ``LEASE_SECONDS`` and another process takes
over, so one deployment (several processes, several machines on one PostgreSQL) has
one worker at a time, with no extra service. Database calls run in a thread, so the
API's event loop never waits on them. Beside the loop, the holder closes inactive cases
every ``AUTO_CLOSE_SECONDS`` (``automation.close_inactive_cases``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from casebook.config import SmtpSettings
from casebook.core.clock import now_us
from casebook.domain import automation, events, reports
from casebook.domain.webhooks import signing_secret
from casebook.storage.base import Store
from casebook.storage.outbox import Delivery
from casebook.worker import send

if TYPE_CHECKING:
    import httpx2 as httpx

LEASE = "delivery-worker"
LEASE_SECONDS = 10.0
POLL_SECONDS = 0.2
BATCH = 100
SEND_BATCH = 50
# The case tallies' changes are folded when this many wait, or once a minute when any do
# (counts are exact either way; folding keeps them cheap: storage/tallies.py).
FOLD_CHECK_SECONDS = 5.0
FOLD_AT = 1_000
FOLD_ANYWAY_SECONDS = 60.0
AUTO_CLOSE_SECONDS = 60.0
"""How often the lease holder closes the inactive cases of the projects that ask for it."""

log = logging.getLogger("casebook.worker")


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        *,
        server_secret: bytes = b"",
        allow_private: bool = False,
        first_retry: float = send.FIRST_RETRY_SECONDS,
        fold_at: int = FOLD_AT,
        smtp: SmtpSettings | None = None,
    ) -> None:
        self.store = store
        self.fold_at = fold_at
        self.smtp = smtp
        self.first_retry = first_retry
        self.server_secret = server_secret
        self.allow_private = allow_private
        self.holder = secrets.token_hex(8)
        self.leading = False
        self._renew_at = 0  # when to renew the lease we hold (half its time)
        self._fold_check_at = 0.0  # time.monotonic() of the next look at the tallies
        self._folded_at = time.monotonic()

    def _step(self) -> int:
        """One turn: take the lease, or renew it once half its time has passed; if ours,
        handle a batch of events. Idle, a turn is one read: writers (SQLite has one at a
        time) meet the worker's write every few seconds, not every turn."""
        now = now_us()
        if not self.leading or now >= self._renew_at:
            ttl = int(LEASE_SECONDS * 1_000_000)
            self.leading = events.take_lease(self.store, LEASE, self.holder, now, ttl)
            self._renew_at = now + ttl // 2
        if self.leading:
            self._fold_tallies()
        if not self.leading or not events.pending_events(self.store, at_least=1):
            return 0
        return events.handle_events(self.store, limit=BATCH)

    def _fold_tallies(self) -> None:
        now = time.monotonic()
        if now < self._fold_check_at:
            return
        self._fold_check_at = now + FOLD_CHECK_SECONDS
        at_least = 1 if now - self._folded_at >= FOLD_ANYWAY_SECONDS else self.fold_at
        waiting = reports.fold_tallies(self.store, at_least=at_least)
        if waiting or at_least == 1:
            self._folded_at = now
        if waiting > reports.FOLD_CHUNK:  # a backlog: the next chunk on the next turn
            self._fold_check_at = now

    async def _deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        """One attempt of one due delivery, and its record."""
        target = delivery.target
        started = time.monotonic()
        outcome = None
        if delivery.channel in ("http", "workflow"):
            name = str(target.get("webhook", ""))
            resolved = await asyncio.to_thread(
                events.webhook_target, self.store, delivery.org_id, name
            )
            if resolved is None:
                outcome = send.Outcome(None, f"no webhook named {name!r}", retry=False)
            else:
                target = resolved
        if delivery.channel == "email":
            outcome = await send.send_email(
                self.smtp, target, delivery.body, delivery_id=delivery.id
            )
        if outcome is None:
            outcome = await send.attempt(
                client,
                delivery.channel,
                target,
                delivery.body,
                secret=signing_secret(self.server_secret, delivery.org_id),
                delivery_id=delivery.id,
                allow_private=self.allow_private,
            )
        retry_after = None
        if outcome.retry and delivery.attempts + 1 < send.MAX_ATTEMPTS:
            wait = send.backoff_seconds(delivery.attempts + 1, first=self.first_retry)
            retry_after = int(wait * 1_000_000)
        await asyncio.to_thread(
            events.record_attempt,
            self.store,
            delivery,
            at=now_us(),
            status=outcome.status,
            error=outcome.error,
            retry_after_us=retry_after,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    async def _send_due(self, client: httpx.AsyncClient) -> int:
        due = await asyncio.to_thread(events.due_deliveries, self.store, now_us(), SEND_BATCH)
        await asyncio.gather(*(self._deliver(client, d) for d in due))
        return len(due)

    async def run(self, stop: asyncio.Event) -> None:
        import httpx2 as httpx  # loaded by the worker that runs, not by every process

        closing = asyncio.create_task(self._close_inactive(stop))
        async with httpx.AsyncClient(follow_redirects=False) as client:
            await self._loop(stop, client)
        await closing
        if self.leading:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(events.release_lease, self.store, LEASE, self.holder)

    async def _loop(self, stop: asyncio.Event, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            handled = 0
            try:
                handled = await asyncio.to_thread(self._step)
                if self.leading:
                    handled += await self._send_due(client)
            except Exception:  # a busy or unreachable database: try again next turn
                log.exception("delivery worker: a turn failed")
            if handled < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)

    async def _close_inactive(self, stop: asyncio.Event) -> None:
        """While this process holds the lease, close inactive cases every
        ``AUTO_CLOSE_SECONDS``, a batch at a time, stopping between batches once it does
        not (or the server stops)."""

        def proceed() -> bool:
            return self.leading and not stop.is_set()

        while not stop.is_set():
            wait = POLL_SECONDS
            if self.leading:
                wait = AUTO_CLOSE_SECONDS
                try:
                    await asyncio.to_thread(
                        automation.close_inactive_cases, self.store, proceed=proceed
                    )
                except Exception:  # as a turn of the loop: try again next time
                    log.exception("delivery worker: closing inactive cases failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


@contextlib.asynccontextmanager
async def running(
    store: Store,
    *,
    server_secret: bytes = b"",
    allow_private: bool = False,
    first_retry: float = send.FIRST_RETRY_SECONDS,
    fold_at: int = FOLD_AT,
    smtp: SmtpSettings | None = None,
) -> AsyncIterator[DeliveryWorker]:
    """Run a worker for as long as the context lasts (the app's lifespan)."""
    worker = DeliveryWorker(
        store,
        server_secret=server_secret,
        allow_private=allow_private,
        first_retry=first_retry,
        fold_at=fold_at,
        smtp=smtp,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await task
