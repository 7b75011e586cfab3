"""Running the app under Granian (a Rust HTTP server with a WSGI interface), started from
`authserver serve`.

Granian parses HTTP and keeps connections alive in Rust (tokio); Python only runs the app, on
`threads` blocking threads per worker process. Workers are forked after `serve` has migrated
the database and prepared the keys, and each builds its own app (no connection or key cache
crosses the fork)."""

from __future__ import annotations

from typing import Any

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import Server

from ..config import Settings

# Granian's own lines (start, stop, a worker's death and respawn) go to stderr, as errors do.
LOGGING = {
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler",
                    "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler",
                   "stream": "ext://sys.stdout"},
    },
}
# Seconds a worker may take to finish its requests after SIGTERM before it is killed.
GRACEFUL_TIMEOUT = 10
# A slow client gets this long (milliseconds) to send its request headers.
HEADER_READ_TIMEOUT_MS = 10_000


def run(settings: Settings, *, host: str, port: int, workers: int, threads: int,
        access_log: bool) -> None:
    def load(_target: str) -> Any:
        from .. import create_app

        return create_app(settings)

    server = Server(
        "authserver:create_app",  # a name for Granian's logs; `load` builds the app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        websockets=False,
        log_level=LogLevels.info,
        log_dictconfig=LOGGING,
        log_access=access_log,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_TIMEOUT,
    )
    server.serve(target_loader=load)
