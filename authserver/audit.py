"""The audit log: one JSON line per security event (tokens issued, refused, refreshed, revoked;
key rotations; admin changes), on the logger "authserver.audit".

Never a secret: callers pass identifiers only (client_id, sub, jti, kid), and anything that
is itself a credential appears as a fingerprint (the first 8 hex digits of its SHA-256).
The JSON formatter is written by hand: ten lines of stdlib logging need no dependency.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from typing import Any

log = logging.getLogger("authserver.audit")
# A last guard: fields whose names say "credential" are dropped, whatever a caller passes.
FORBIDDEN = ("secret", "password", "refresh_token", "access_token", "id_token", "code")


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr as it is at each write (tests and CLIs swap sys.stderr after start-up)."""

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


def configure(path: str | None) -> None:
    """Send audit lines to `path` (appended), else to stderr; once per process."""
    if log.handlers:
        return
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else _CurrentStderr()
    )
    handler.setFormatter(JsonLines())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def fingerprint(credential: str) -> str:
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()[:8]


def event(name: str, outcome: str = "success", **fields: Any) -> None:
    safe = {
        k: v for k, v in fields.items()
        if v is not None
        and (k.endswith("_fingerprint") or not any(word in k for word in FORBIDDEN))
    }
    log.info(name, extra={"audit": {"outcome": outcome, **safe}})
