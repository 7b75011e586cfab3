"""One Redis connection per thread, for the commands on a request's path: the DPoP proofs' jtis
(store/dpop_jtis.py) and the reads of the failed-attempt counters (ops/ratelimit.py).

A connection of redis-py's, not its client: the client's execute_command (the pool's checkout
and return, its metrics hooks, the retry wrapper, the reply callbacks) cost as much CPU as the
round trip itself (in a loop: a GET through the client 96 µs of CPU, the same command on a
connection 43-48 µs). Each thread keeps its connection for good, checks it before use as the
pool would, and sends a command and reads its answer as two steps, so that a caller can work
while the answer travels. No retry: a SET NX that reached Redis but whose answer was lost
would come back as a replay. On an error redis-py closes the connection, and the next command
opens it again.
"""

from __future__ import annotations

import threading
from typing import Any


class ThreadConnections:
    def __init__(self, url: str, timeout: float) -> None:
        import redis  # only when Redis is configured

        self.errors = (redis.RedisError, OSError)
        self.refusals = redis.ResponseError  # an error answer: the connection is still in step
        self._pool = redis.ConnectionPool.from_url(url, socket_timeout=timeout,
                                                   socket_connect_timeout=timeout)
        self._local = threading.local()

    def send(self, *command: Any) -> Any:
        """Send `command` on this thread's connection; the connection, for `answer`. Raises
        redis.RedisError when Redis cannot be reached."""
        connection = self._ready()
        self._local.answer_owed = True
        connection.send_command(*command)
        return connection

    def answer(self, connection: Any) -> Any:
        """The answer to the command this thread sent last. Raises redis.RedisError."""
        try:
            answer = connection.read_response()
        except self.refusals:
            self._local.answer_owed = False  # an error was the answer, read in full
            raise
        self._local.answer_owed = False
        return answer

    def _ready(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # Made as the pool makes them, but not counted against its max_connections (a
            # query option of the URL): these are never handed back, and threads come and go.
            connection = self._local.connection = self._pool.connection_class(
                **self._pool.connection_kwargs)
        if getattr(self._local, "answer_owed", False):
            # A command whose answer was never read (something failed between): that answer
            # may still be on its way, and must not be taken for the next command's.
            connection.disconnect()
            self._local.answer_owed = False
        connection.connect()  # opened if it is not (a no-op if it is); Redis down raises here
        try:
            # As redis-py's pool checks a connection it hands out: something to read before
            # we asked (end of file: Redis restarted since) means a stale socket.
            if connection.can_read():
                connection.disconnect()
        except self.errors:
            connection.disconnect()  # the command that follows opens it again
        return connection
