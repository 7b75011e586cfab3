"""Brute-force throttling: failed logins and failed client authentications, counted per
account and address and per address alone, in fixed windows (the `limits` library; memory per
process by default, Redis shared by every worker and host when AUTHSERVER_RATELIMIT_STORAGE_URL
is set).

Only failures count, so a busy legitimate client is never slowed by its own successes. A
lockout is per (account, address) and ends with its window: an attacker elsewhere cannot lock
a user out, and nobody is locked out for longer than one window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter


@dataclass(frozen=True)
class Limits:
    per_account_and_address: RateLimitItem
    per_address: RateLimitItem


DEFAULT_LIMITS = Limits(parse("5 per 5 minutes"), parse("50 per 5 minutes"))


class FailureThrottle:
    def __init__(self, storage_url: str = "memory://", limits: Limits = DEFAULT_LIMITS,
                 prefix: str = "authserver") -> None:
        self.limiter = FixedWindowRateLimiter(storage_from_string(storage_url))
        self.limits = limits
        self.prefix = prefix

    def _keys(self, kind: str, account: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self.limits.per_account_and_address, (self.prefix, kind, account, address)),
            (self.limits.per_address, (self.prefix, "address", address)),
        ]

    def retry_after(self, kind: str, account: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None if allowed now."""
        waits = []
        for item, ids in self._keys(kind, account, address):
            if not self.limiter.test(item, *ids):
                reset = self.limiter.get_window_stats(item, *ids).reset_time
                waits.append(max(1, int(reset - time.time()) + 1))
        return max(waits) if waits else None

    def failed(self, kind: str, account: str, address: str) -> None:
        for item, ids in self._keys(kind, account, address):
            self.limiter.hit(item, *ids)
