"""DPoP proofs' jti, each usable once across every worker and host (RFC 9449 §11.1).

In front, each process remembers the jtis it has seen (a replay to the same worker is refused
without a round trip). Behind it, the shared cache: Redis with `SET NX EX` when
AUTHSERVER_RATELIMIT_STORAGE_URL names one (one round trip, nothing written to the database),
else the database's primary key (store/assertions.py). When Redis is configured but does not
answer, the proof is neither accepted nor refused: the request is a 503 (`Unavailable`), for a
worker that fell back to its database alone could accept a proof another host recorded in
Redis.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from ..errors import Unavailable
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
        self.url = redis_url(storage_url)
        self.seen_here = MemoryReplayCache(clock=lambda: store.clock())  # tests move it
        self._redis_pool: Any = None
        if self.url is not None:
            import redis  # only when configured

            self._redis_pool = redis.ConnectionPool.from_url(
                self.url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        self._connections = threading.local()  # each thread's own connection to Redis

    def first_use(self, jti: str, until: int) -> bool:
        """True the first time any worker sees this jti (for the APIs; in the database, its
        own short transaction)."""
        return self._checked(jti, until, lambda: self.store.assertions.use_once("dpop", jti, until))

    def first_use_here(self, jti: str, until: int) -> bool:
        """As first_use; in the database, inside the request's own transaction (the token
        endpoint: a refresh may hold SQLite's write lock by now)."""
        return self._checked(jti, until,
                             lambda: self.store.assertions.use_once_here("dpop", jti, until))

    def _checked(self, jti: str, until: int, in_database: Any) -> bool:
        if not self.seen_here(jti, until):
            return False
        try:
            if self.url is not None:
                return self._in_redis(jti, until)
            return bool(in_database())
        except BaseException:
            self.seen_here.forget(jti)  # not known to be used: a retry is asked again
            raise

    def _in_redis(self, jti: str, until: int) -> bool:
        import redis  # only when configured

        key = KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()
        ttl = max(1, until - self.store.now())
        try:
            connection = self._connection(redis)
            # A connection of redis-py's, not its client: the client's execute_command (the
            # pool's checkout and return, its metrics, the retry wrapper, the reply callbacks)
            # cost as much CPU as the round trip itself. No retry: a SET that reached Redis but
            # whose answer was lost would come back as a replay. On an error the connection
            # closes itself, and the next call opens it again.
            connection.send_command("SET", key, b"1", "NX", "EX", ttl)
            return connection.read_response() is not None  # nil: the key was there
        except redis.RedisError as exc:
            log.error("DPoP replay cache (Redis) unavailable: %s", str(exc).splitlines()[0])
            raise Unavailable("the DPoP replay cache is unavailable; retry shortly") from None

    def _connection(self, redis: Any) -> Any:
        """This thread's connection, ready to send (kept for good, never handed back)."""
        connection = getattr(self._connections, "redis", None)
        if connection is None:
            connection = self._connections.redis = self._redis_pool.make_connection()
        try:
            # As redis-py's pool checks a connection it hands out: something to read before
            # we asked (end of file: Redis restarted since) means a stale socket.
            if connection.can_read():
                connection.disconnect()
        except (redis.RedisError, OSError):
            connection.disconnect()  # down: the SET that follows says so
        return connection
