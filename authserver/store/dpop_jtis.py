"""DPoP proofs' jti, each usable once across every worker and host (RFC 9449 §11.1).

In front, each process remembers the jtis it has seen (a replay to the same worker is refused
without a round trip). Behind it, the shared cache: Redis with `SET NX EX` when
AUTHSERVER_RATELIMIT_STORAGE_URL names one (one round trip, nothing written to the database),
else the database's primary key (store/assertions.py). Redis is asked while the proof's
signature is checked (`FirstUse`). When Redis is configured but does not answer, the proof
is neither accepted nor refused: the request is a 503 (`Unavailable`), for a worker that fell
back to its database alone could accept a proof another host recorded in Redis.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Unavailable
from ..redis_link import ThreadConnections
from ..resource_server.dpop import MemoryReplayCache

if TYPE_CHECKING:
    from . import Store

log = logging.getLogger("authserver")
# A shared store that does not answer within this is treated as down (seconds), as for the
# failed-attempt counters (ops/ratelimit.py).
REDIS_TIMEOUT = 0.5
KEY_PREFIX = "authserver:dpop:"


def redis_url(storage_url: str) -> str | None:
    """The Redis the failed-attempt counters share, if they share one."""
    return storage_url if storage_url.startswith(("redis://", "rediss://", "unix://")) else None


class DPoPJtis:
    def __init__(self, store: Store, storage_url: str) -> None:
        self.store = store
        self.seen_here = MemoryReplayCache(clock=lambda: store.clock())  # tests move it
        url = redis_url(storage_url)
        self.redis = ThreadConnections(url, REDIS_TIMEOUT) if url is not None else None

        # For the APIs: in the database, the jti's own short transaction.
        self.first_use = FirstUse(
            self, lambda jti, until: store.assertions.use_once("dpop", jti, until))
        # For the token endpoint: in the database, inside the request's own transaction (a
        # refresh may hold SQLite's write lock by now, which a second connection would wait on).
        self.first_use_here = FirstUse(
            self, lambda jti, until: store.assertions.use_once_here("dpop", jti, until))

    def started_in_redis(self, link: ThreadConnections, jti: str, until: int) -> PendingSet:
        """The SET NX EX sent on `link` (this store's `redis`); its answer read when asked
        for. This worker must have seen the jti first (`seen_here`)."""
        import redis  # only when configured

        key = KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()
        ttl = max(1, until - self.store.now())
        try:
            connection = link.send("SET", key, b"1", "NX", "EX", ttl)
        except redis.RedisError as exc:
            raise _unavailable(exc) from None
        return PendingSet(self, link, connection, jti)


class FirstUse:
    """`first_use(jti, until)` for check_proof (resource_server/dpop.py). With Redis it also
    offers `start`: the SET goes out before the proof's signature is checked, and its answer
    is read after, so the round trip and the signature's check overlap: the answer is there
    when asked for, and the thread does not sleep for it. In process a DPoP call cost 14 %
    less CPU than with the SET answered before the signature's check; served under full load,
    where other requests fill the wait anyway, 1-2 % less CPU and 3-6 % more calls a second
    (bench/RESULTS.md, 2026-12-07, last). So a proof whose signature fails has used its jti
    too, as one that fails a later check always did: only whoever knew a jti before its
    client sent it could take it from that client."""

    def __init__(self, jtis: DPoPJtis, in_database: Callable[[str, int], bool]) -> None:
        self.jtis = jtis
        self.in_database = in_database

    def __call__(self, jti: str, until: int) -> bool:
        """True the first time any worker sees this jti."""
        pending = self.start(jti, until)
        if pending is not None:
            return pending()
        if not self.jtis.seen_here(jti, until):
            return False
        try:
            return bool(self.in_database(jti, until))
        except BaseException:
            self.jtis.seen_here.forget(jti)  # not known to be used: a retry is asked again
            raise

    def start(self, jti: str, until: int) -> PendingSet | _Seen | None:
        """None without Redis: the database is asked once the signature verified."""
        link = self.jtis.redis
        if link is None:
            return None
        if not self.jtis.seen_here(jti, until):
            return _Seen()
        try:
            return self.jtis.started_in_redis(link, jti, until)
        except BaseException:
            self.jtis.seen_here.forget(jti)
            raise


class PendingSet:
    """A SET NX EX sent on this thread's connection, its answer not read yet."""

    def __init__(self, jtis: DPoPJtis, link: ThreadConnections, connection: Any,
                 jti: str) -> None:
        self.jtis, self.link, self.connection, self.jti = jtis, link, connection, jti

    def __call__(self) -> bool:
        import redis

        try:
            return self.link.answer(self.connection) is not None  # nil: the key was there
        except redis.RedisError as exc:
            self.jtis.seen_here.forget(self.jti)  # not known to be used: a retry is asked again
            raise _unavailable(exc) from None
        except BaseException:
            self.jtis.seen_here.forget(self.jti)
            raise

    def drop(self) -> None:
        """The proof failed: the answer is read and not looked at, so that the connection
        stays in step. Redis failing here changes nothing for the request, refused anyway."""
        import redis

        try:
            self.link.answer(self.connection)
        except redis.RedisError:
            pass  # the connection closed itself; the next request opens it again


class _Seen:
    """This worker saw the jti already: a replay, without asking Redis."""

    def __call__(self) -> bool:
        return False

    def drop(self) -> None:
        pass


def _unavailable(exc: Exception) -> Unavailable:
    log.error("DPoP replay cache (Redis) unavailable: %s", str(exc).splitlines()[0])
    return Unavailable("the DPoP replay cache is unavailable; retry shortly")
