"""The app in this process behind the interface of a `ServerProcess` (tests/support.py), for the
modules that start a server only to talk HTTP to it: httpx through WSGI (no socket, no worker
processes, no Granian), the CLI in process on the same database and keys, and the app's log
records as the server's log. A module opts in with `IN_PROCESS = True`; where the process is
the subject (workers, signals, Granian, nginx, several instances, relying parties on node or
Chromium, multiprocess metrics) it keeps a real `authserver serve`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

from authserver import create_app
from authserver.config import Settings

from .support import CommandLine, server_env

# A loopback issuer, as `serve` has: nothing listens at port 9 (discard), the name is all.
BASE_URL = "http://127.0.0.1:9"


class _Records(logging.Handler):
    """What the app logs while it serves (its tracebacks included), as a server's log file."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class InProcessServer(CommandLine):
    base_url: str
    env: dict[str, str]
    app: Flask
    records: _Records = field(default_factory=_Records)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.new_client(base_url=self.base_url)
        logging.getLogger().addHandler(self.records)

    def new_client(self, **options: Any) -> httpx.Client:
        """An HTTP client of this server (a browser, a device, a relying party)."""
        return httpx.Client(transport=httpx.WSGITransport(app=self.app), timeout=10, **options)

    def log(self) -> str:
        return "\n".join(self.records.lines)

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.records)
        self.http.close()
        self.app.extensions["authserver.db"].dispose()


def start_in_process(*, database_url: str, keys_dir: Path,
                     extra_env: dict[str, str] | None = None) -> InProcessServer:
    """The app of a server with this (migrated) database, keys and settings (`extra_env`);
    its instance directory is beside the keys, as for `start_server`."""
    env = server_env(database_url, keys_dir, BASE_URL, **(extra_env or {}))
    settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("AUTHSERVER_")})
    return InProcessServer(BASE_URL, env, create_app(settings))
