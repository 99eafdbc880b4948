"""Serving the emulator: in the foreground (``casebook emulate``) or in a thread (tests)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

from casebook.emulator.app import EmulatorApp


def _config(app: EmulatorApp, host: str, port: int, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        **options,
    )


def run(app: EmulatorApp, *, host: str, port: int) -> None:
    """Serve until interrupted (one process: the organisations live in its memory)."""
    uvicorn.Server(_config(app, host, port, loop="uvloop", http="httptools")).run()


class ThreadedEmulator:
    """The emulator on a free port of 127.0.0.1, in a daemon thread of this process."""

    def __init__(self, app: EmulatorApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self.server = uvicorn.Server(_config(app, self.host, self.port, loop="asyncio"))
        self._thread = threading.Thread(target=self._run, name="casebook-emulator", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self._socket]))

    def start(self, timeout: float = 10.0) -> ThreadedEmulator:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the casebook emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
