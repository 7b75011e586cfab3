"""Brute-force throttling: failed logins and failed client authentications, counted per
account and address and per address alone (wrong second-factor codes per account too), in
fixed windows (the `limits` library; memory per
process by default, Redis shared by every worker and host when AUTHSERVER_RATELIMIT_STORAGE_URL
is set).

Only failures count, so a busy legitimate client is never slowed by its own successes. A
lockout is per (account, address) and ends with its window: an attacker elsewhere cannot lock
a user out, and nobody is locked out for longer than one window. Wrong second-factor codes
are the exception: whoever types them had the password, so they are also counted per account
whatever the address (NIST SP 800-63B §5.2.2), else each new address would bring 5 more
guesses; the user, who has the factor, is held at most one window of that count. Apart from failures, `admit`
holds an action the operator rates (open registration) to its own rate per address, on the
same counter store under keys of its own.

When the shared counter store cannot be reached, counting goes on in this worker's memory
until it can (tried again every OUTAGE_RETRY seconds): a password or secret is never checked
unthrottled, and a Redis outage is never a 500. One log line when the store goes and one
when it is back, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ..db_trouble import without_password
from ..redis_link import ThreadConnections

log = logging.getLogger("authserver")
T = TypeVar("T")
# How often a worker tries the shared store again after it failed.
OUTAGE_RETRY = 5.0
# A shared store that does not answer within this is treated as down (seconds).
STORE_TIMEOUT = 0.5


# The kind of failure that is a wrong second-factor code (TOTP or recovery code).
CODES = "otp"


@dataclass(frozen=True)
class Limits:
    per_account_and_address: RateLimitItem
    per_address: RateLimitItem
    # Also per account whatever the address, for these kinds only (see the module's words).
    per_account: RateLimitItem = parse("10 per 1 hour")
    per_account_kinds: frozenset[str] = frozenset({CODES})


DEFAULT_LIMITS = Limits(parse("5 per 5 minutes"), parse("50 per 5 minutes"))


def limits_with(wrong_codes: tuple[int, int]) -> Limits:
    """The default limits with the per-account count of wrong codes the operator set
    (AUTHSERVER_WRONG_CODE_LIMIT: COUNT in SECONDS)."""
    count, seconds = wrong_codes
    return replace(DEFAULT_LIMITS, per_account=RateLimitItemPerSecond(count, seconds))


class FailureThrottle:
    def __init__(self, storage_url: str = "memory://", limits: Limits = DEFAULT_LIMITS,
                 prefix: str = "authserver", clock: Callable[[], float] = time.monotonic) -> None:
        options = {} if storage_url.startswith("memory") else {
            "socket_timeout": STORE_TIMEOUT, "socket_connect_timeout": STORE_TIMEOUT}
        self.shared = FixedWindowRateLimiter(
            storage_from_string(storage_url, wrap_exceptions=True, **options))
        self.local = FixedWindowRateLimiter(MemoryStorage())
        # The counters' reads on every token request, in one MGET on a connection of each
        # thread's own (redis_link.py) instead of one GET each through `limits`: the keys are
        # limits' own, and its fixed windows' writes and window stats stay its.
        self._reads = (ThreadConnections(storage_url, STORE_TIMEOUT)
                       if type(self.shared.storage) is RedisStorage
                       and storage_url.startswith(("redis://", "rediss://")) else None)
        self.storage_url = storage_url
        self.limits = limits
        self.prefix = prefix
        self._clock = clock
        self._down_until: float | None = None  # while set, the shared store is not tried
        self._lock = threading.Lock()

    def shared_store_answers(self) -> bool:
        """Whether the shared counter store answers now (for /readyz)."""
        try:
            return bool(self.shared.storage.check())
        except StorageError:
            return False

    def _keys(self, kind: str, account: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        keys = [
            (self.limits.per_account_and_address, (self.prefix, kind, account, address)),
            (self.limits.per_address, (self.prefix, "address", address)),
        ]
        if kind in self.limits.per_account_kinds:
            keys.append((self.limits.per_account, (self.prefix, "account", kind, account)))
        return keys

    def _counted(self, action: Callable[[FixedWindowRateLimiter], T]) -> T:
        """`action` on the shared counters, or on this worker's while they are unreachable."""
        down_until = self._down_until
        if down_until is not None and self._clock() < down_until:
            return action(self.local)
        try:
            result = action(self.shared)
        except StorageError as exc:
            with self._lock:
                if self._down_until is None:
                    log.error("the failed-attempt counters at %s are unreachable (%s); counting "
                              "per worker until they are back", without_password(self.storage_url), exc)
                self._down_until = self._clock() + OUTAGE_RETRY
            return action(self.local)
        if down_until is not None:
            with self._lock:
                if self._down_until is not None:
                    log.warning("the failed-attempt counters at %s are back",
                                without_password(self.storage_url))
                self._down_until = None
        return result

    def retry_after(self, kind: str, account: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None if allowed now."""
        keys = self._keys(kind, account, address)

        def waits(limiter: FixedWindowRateLimiter) -> list[int]:
            found = []
            for item, ids in self._spent(limiter, keys):
                reset = limiter.get_window_stats(item, *ids).reset_time
                found.append(max(1, int(reset - time.time()) + 1))
            return found

        found = self._counted(waits)
        return max(found) if found else None

    def _spent(self, limiter: FixedWindowRateLimiter, keys: list[tuple[RateLimitItem, tuple[str, ...]]]
               ) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        """The keys whose limit is used up (as `limiter.test` says of each)."""
        counts = self._counts_in_one_read(keys) if limiter is self.shared else None
        if counts is None:
            return [(item, ids) for item, ids in keys if not limiter.test(item, *ids)]
        return [(item, ids) for (item, ids), count in zip(keys, counts, strict=True)
                if int(count or 0) >= item.amount]

    def _counts_in_one_read(self, keys: list[tuple[RateLimitItem, tuple[str, ...]]]
                            ) -> list[bytes | None] | None:
        """The shared counters of `keys` in one MGET, or None to read them through limits
        (not plain Redis, or a Redis that refuses MGET: an ACL without it, say)."""
        if self._reads is None:
            return None
        storage = self.shared.storage
        assert isinstance(storage, RedisStorage)
        names = [storage.prefixed_key(item.key_for(*ids)) for item, ids in keys]
        try:
            return self._reads.answer(self._reads.send("MGET", *names))  # type: ignore[no-any-return]
        except self._reads.refusals:
            return None
        except self._reads.errors as exc:
            raise StorageError(exc) from exc  # as limits' own reads: counted per worker

    def admit(self, kind: str, address: str, rate: tuple[int, int]) -> int | None:
        """Counts one `kind` action from `address` against `rate` (COUNT, SECONDS): None when
        it is within the rate, else the seconds until the window ends (nothing counted)."""
        item = RateLimitItemPerSecond(*rate)
        ids = (self.prefix, "rate", kind, address)

        def take(limiter: FixedWindowRateLimiter) -> int | None:
            if limiter.hit(item, *ids):
                return None
            reset = limiter.get_window_stats(item, *ids).reset_time
            return max(1, int(reset - time.time()) + 1)

        return self._counted(take)

    def failed(self, kind: str, account: str, address: str) -> None:
        keys = self._keys(kind, account, address)

        def hit(limiter: FixedWindowRateLimiter) -> None:
            for item, ids in keys:
                limiter.hit(item, *ids)

        self._counted(hit)
