"""A local stand-in for Jira and ServiceNow: the few REST calls casebook makes, on loopback.

Jira and ServiceNow are external systems, so a test may fake them (never our own
code). ``FakeTracker`` is an ``http.server`` in a thread that answers

- ``POST /rest/api/2/issue`` (Jira) with ``201 {"id", "key", "self"}``, numbering the
  issues of each project key from 1; a project given by id must be one of ``PROJECTS``;
- ``POST /api/now/table/incident`` (ServiceNow) with ``201 {"result": {"sys_id", "number"}}``,

each only for the basic credentials it was told (``JIRA_AUTH``, ``SERVICENOW_AUTH``;
others get 401), and records every request it received (``received``). ``script`` makes
the next answers something else: another status and body, or a delay; with ``echo``, the
text ``ECHO`` in a scripted body becomes the request's ``Authorization`` header (a system
that repeats what it was sent in its errors).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JIRA_AUTH = ("jira-bot@example.com", "jira-api-token-6f3b1c9d2e")
SERVICENOW_AUTH = ("casebook.bot", "servicenow-password-8a7e4d")
PROJECTS = {"10000": "OPS", "10001": "SEC"}  # Jira project ids the fake knows, by key


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


@dataclass
class Answer:
    """One scripted answer: ``status`` and JSON ``body`` (None: the usual answer), after
    ``delay`` seconds; with ``drip``, the body a byte at a time, ``drip`` seconds apart."""

    status: int | None = None
    body: Any = None
    delay: float = 0.0
    drip: float = 0.0


@dataclass
class FakeTracker:
    received: list[Received] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    _numbers: dict[str, Iterator[int]] = field(default_factory=dict)
    _incidents: Iterator[int] = field(default_factory=lambda: itertools.count(10001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    echo: bool = False

    def of(self, path: str) -> list[Received]:
        """The requests received on ``path``, oldest first."""
        return [r for r in self.received if r.path == path]

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> Answer:
        with self._lock:
            received = Received(method, path, headers, body)
            self.received.append(received)
            scripted = self.script.pop(0) if self.script else Answer()
        if scripted.delay:
            time.sleep(scripted.delay)
        if scripted.status is not None:
            if self.echo:
                echoed = json.dumps(scripted.body).replace("ECHO", headers.get("authorization", ""))
                return Answer(scripted.status, json.loads(echoed))
            return scripted
        if scripted.drip:  # the usual answer, slowly
            usual = self.answer_usual(method, path, received)
            return Answer(usual.status, usual.body, drip=scripted.drip)
        return self.answer_usual(method, path, received)

    def answer_usual(self, method: str, path: str, received: Received) -> Answer:
        if method != "POST":
            return Answer(405, {"error": "method not allowed"})
        if path == "/rest/api/2/issue":
            return self._jira(received)
        if path == "/api/now/table/incident":
            return self._servicenow(received)
        return Answer(404, {"errorMessages": [f"no such resource {path}"]})

    def _jira(self, received: Received) -> Answer:
        if received.basic_auth != JIRA_AUTH:
            return Answer(401, {"errorMessages": ["You are not authenticated."]})
        fields = received.body.get("fields") if isinstance(received.body, dict) else None
        if not isinstance(fields, dict) or not fields.get("summary"):
            return Answer(400, {"errorMessages": [], "errors": {"summary": "required"}})
        project = fields.get("project") or {}
        key = project.get("key") or PROJECTS.get(str(project.get("id")))
        if not key or not fields.get("issuetype"):
            return Answer(
                400, {"errorMessages": [], "errors": {"project": "valid project is required"}}
            )
        with self._lock:
            number = next(self._numbers.setdefault(key, itertools.count(1)))
        issue_id = str(10000 + len(self.received))
        return Answer(
            201, {"id": issue_id, "key": f"{key}-{number}", "self": f"/rest/api/2/issue/{issue_id}"}
        )

    def _servicenow(self, received: Received) -> Answer:
        if received.basic_auth != SERVICENOW_AUTH:
            return Answer(401, {"error": {"message": "User Not Authenticated", "detail": ""}})
        if not isinstance(received.body, dict) or not received.body.get("short_description"):
            return Answer(400, {"error": {"message": "short_description is required"}})
        with self._lock:
            number = next(self._incidents)
        sys_id = f"{number:032x}"
        return Answer(201, {"result": {"sys_id": sys_id, "number": f"INC00{number}"}})


def _handler(tracker: FakeTracker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = tracker.answer(self.command, self.path, headers, body)
            payload = json.dumps(answer.body).encode()
            # A client that timed out has gone: the answer has no one to go to.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(answer.status or 500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if not answer.drip:
                    self.wfile.write(payload)
                for byte in payload if answer.drip else b"":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.drip)

        do_POST = do_GET = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    return Handler


@contextmanager
def running_tracker() -> Iterator[FakeTracker]:
    """A ``FakeTracker`` listening on a free loopback port until the block ends."""
    tracker = FakeTracker()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(tracker))
    server.daemon_threads = True
    tracker.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tracker
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
