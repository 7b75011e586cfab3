"""The audit log: one JSON line per security event (tokens issued, refused, refreshed, revoked;
key rotations; admin changes), written by this module. It subscribes to
`authserver.events`; protocol code never imports it.

Never a secret: events carry identifiers only, and as a last guard fields whose names say
"credential" are dropped here, whatever a sender passes. The JSON lines are written by hand:
a dozen lines need no dependency.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .. import events

FORBIDDEN = ("secret", "password", "refresh_token", "access_token", "id_token", "code")
# Where the CLI writes when AUTHSERVER_AUDIT_LOG is unset: beside the session key, in the
# instance directory, so an operator's terminal shows only the command's own output.
CLI_AUDIT_FILE = "audit.log"


class _Lines:
    """Where audit lines go: a file opened for appending, else stderr as it is at each write
    (tests swap sys.stderr after start-up). Each line is one write, flushed at once, so workers
    appending to one file never interleave. Written directly, not through stdlib logging: a
    LogRecord per token (caller lookup, thread and process names) cost more than the line."""

    def __init__(self, path: str | None) -> None:
        self.file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self.lock = threading.Lock()

    def write(self, line: str) -> None:
        stream = self.file or sys.stderr
        with self.lock:
            stream.write(line)
            stream.flush()


_lines: _Lines | None = None


def _write(name: str, *, outcome: str, fields: dict[str, Any]) -> None:
    entry = {"ts": round(time.time(), 3), "event": name, "outcome": outcome}
    entry.update(
        (k, v) for k, v in fields.items()
        if v is not None
        and (k.endswith("_fingerprint") or not any(word in k for word in FORBIDDEN))
    )
    if _lines is not None:
        _lines.write(json.dumps(entry, separators=(",", ":"), default=str) + "\n")


def configure(path: str | None) -> None:
    """Write audit lines to `path` (appended), else to stderr (the server's log); once per
    process."""
    global _lines
    if _lines is not None:
        return
    _lines = _Lines(path)
    events.security_event.connect(_write)


def configure_for_cli(path: str | None, instance_dir: str) -> Path:
    """The CLI's audit trail: AUTHSERVER_AUDIT_LOG when set, else instance/audit.log (0600),
    never the operator's terminal. Returns the file written to."""
    target = Path(path) if path else Path(instance_dir) / CLI_AUDIT_FILE
    if not path:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    configure(str(target))
    return target
