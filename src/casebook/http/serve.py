"""Running the API under uvicorn: one process, or several workers, each with its own socket.

uvicorn's ``--workers`` shares one listening socket among the workers, and a
uvloop worker accepts every connection waiting when it wakes: a burst of new
keep-alive connections often lands on one worker (16/0 of 16 connections in
about a third of the benchmark's runs), which then does all the work while the
other idles. Here each worker listens on a socket of its own with
``SO_REUSEPORT``, and the kernel spreads new connections over them by hash.

uvicorn's supervisor still starts, watches, restarts and stops the workers;
only the socket each worker serves changes. The parent first checks that the
port is free (so a second casebook cannot join the first one's group by
mistake), then holds it bound, without listening, until it exits.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

APP = "casebook.http.app:app_from_environment"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def reuseport_socket(host: str, port: int, *, backlog: int | None) -> socket.socket:
    """A TCP socket bound to (host, port) in the port's SO_REUSEPORT group; listening if backlog."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if backlog is not None:
            sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _require_free(host: str, port: int) -> None:
    """Fail (OSError) if anything, a casebook included, already holds the port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


class _OwnSocketWorker(multiprocess.Process):
    """A uvicorn worker that serves a SO_REUSEPORT socket it binds itself."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        try:
            own = reuseport_socket(self.config.host, self.config.port, backlog=self.config.backlog)
        except OSError as exc:
            print(f"casebook: worker cannot listen: {exc}", file=sys.stderr)
            sys.exit(STARTUP_FAILURE)
        super().target([own])


def run(*, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the API until SIGINT/SIGTERM; ``options`` are uvicorn's."""
    if workers <= 1:
        uvicorn.run(APP, factory=True, host=host, port=port, **options)
        return
    _require_free(host, port)
    held = reuseport_socket(host, port, backlog=None)  # keeps the port ours until we exit
    try:
        port = held.getsockname()[1]  # port 0: the one the kernel chose
        config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers, **options)
        # uvicorn's supervisor builds its workers from this module's ``Process``.
        multiprocess.Process = _OwnSocketWorker  # type: ignore[misc]
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        held.close()
