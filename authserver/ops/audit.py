"""The audit log: one JSON line per security event (tokens issued, refused, refreshed, revoked;
key rotations; admin changes), on the logger "authserver.audit". It subscribes to
`authserver.events`; protocol code never imports it.

Never a secret: events carry identifiers only, and as a last guard fields whose names say
"credential" are dropped here, whatever a sender passes. The JSON formatter is written by hand:
ten lines of stdlib logging need no dependency.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from .. import events

log = logging.getLogger("authserver.audit")
FORBIDDEN = ("secret", "password", "refresh_token", "access_token", "id_token", "code")
# Where the CLI writes when AUTHSERVER_AUDIT_LOG is unset: beside the session key, in the
# instance directory, so an operator's terminal shows only the command's own output.
CLI_AUDIT_FILE = "audit.log"


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr as it is at each write (tests swap sys.stderr after start-up)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "event": record.getMessage()}
        entry.update(getattr(record, "audit", {}))
        return json.dumps(entry, separators=(",", ":"), default=str)


def _write(name: str, *, outcome: str, fields: dict[str, Any]) -> None:
    safe = {
        k: v for k, v in fields.items()
        if v is not None
        and (k.endswith("_fingerprint") or not any(word in k for word in FORBIDDEN))
    }
    log.info(name, extra={"audit": {"outcome": outcome, **safe}})


def configure(path: str | None) -> None:
    """Write audit lines to `path` (appended), else to stderr (the server's log); once per
    process."""
    if log.handlers:
        return
    if path:
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = _CurrentStderr()
    handler.setFormatter(JsonLines())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
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
