"""Security events, as blinker signals (Flask's own signal library): protocol code says what
happened, and the audit log (and anything else) subscribes. Nothing here writes anywhere.

    events.record("token.revoked", client_id=..., family=...)

Never a secret in an event: identifiers only (client_id, sub, jti, kid), and anything that is
itself a credential as a fingerprint (`fingerprint`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from blinker import Namespace

_signals = Namespace()
# Sent with the event's name as sender, and `outcome` and `fields` as keyword arguments.
security_event = _signals.signal("security-event")


def record(name: str, outcome: str = "success", **fields: Any) -> None:
    security_event.send(name, outcome=outcome, fields=fields)


def fingerprint(credential: str) -> str:
    """The first 8 hex digits of a credential's SHA-256: enough to correlate, useless to replay."""
    return hashlib.sha256(credential.encode("utf-8")).hexdigest()[:8]
