"""A per-worker cache of registered clients for the token endpoint, never stale by a request.

Every token request authenticates its client, and loading the row through a session costs more
than the RSA signature that follows. The cache keeps client rows by client_id and trusts them
only while `clients_version.version` is what it was when they were loaded; every ORM write of a
Client bumps that version in the same transaction (models._bump_clients_version), so a deleted
client or a rotated secret stops working on the very next request, on every worker and host.

The version is read over one dedicated autocommit DBAPI connection per thread: a primary-key
read without a session, a pool checkout or a transaction. If that read fails for any reason the
cache steps aside and the client is loaded from the database as before (whose errors the app
turns into 503s), so the cache can make a request faster but never answer without the database.

Written by hand: no maintained library offers a version-checked cache over SQLAlchemy rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Engine, event

from ..models import Client

if TYPE_CHECKING:
    from . import Store

T = TypeVar("T")

VERSION_QUERY = "SELECT version FROM clients_version WHERE id = 1"
# Bounds memory when client ids are many; when full, the least recently used client goes (with
# more clients in use than this, clearing the whole cache made nearly every request a miss).
MAX_ENTRIES = 10_000


class ClientCache:
    def __init__(self, engine: Engine, load: Callable[[str], Client | None],
                 sees_version: Callable[[int], bool] = lambda _version: True) -> None:
        self.engine = engine
        self.load = load
        # Whether a load now sees at least this version (Store.sees_version): what an older
        # snapshot loads serves its request, and is not kept.
        self.sees_version = sees_version
        self._local = threading.local()
        # client_id -> (the version it was loaded under, the transient Client), least recently
        # used first; added to and trimmed under _entries_lock (the worker's threads share it)
        self._entries: OrderedDict[str, tuple[int, Client]] = OrderedDict()
        self._entries_lock = threading.Lock()
        self._version: int | None = None
        self._opened: list[Any] = []  # every thread's version connection, to close them all
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def get(self, client_id: str, *, reuse_version: bool = False) -> Client | None:
        """The client; `reuse_version`: trust the version this request has read already, if
        it has read one (a second look at the same client in one request costs no query)."""
        version = self.version_seen() if reuse_version else None
        if version is None:
            version = self.current_version()
        if version is None:
            return self.load(client_id)
        if version != self._version:
            self._entries, self._version = OrderedDict(), version
        entries = self._entries
        entry = entries.get(client_id)
        # Entries carry their own version: a thread that read an older version just before a
        # change may still store what it loaded, and that entry is then never served.
        if entry is not None and entry[0] == version:
            try:
                entries.move_to_end(client_id)  # one step under the GIL: no lock on a hit
            except KeyError:
                pass  # another thread evicted it meanwhile
            return entry[1]
        keep = self.sees_version(version)
        client = self.load(client_id)
        if client is not None and keep:
            with self._entries_lock:
                entries[client_id] = (version, client)
                entries.move_to_end(client_id)
                while len(entries) > MAX_ENTRIES:
                    entries.popitem(last=False)
        return client

    def current_version(self) -> int | None:
        """The clients version in the database now, or None when it cannot be read."""
        connection = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = self._local.connection = self._connect()
            cursor = connection.cursor()
            try:
                cursor.execute(VERSION_QUERY)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self.engine.dialect.loaded_dbapi.Error:
            self._discard(connection)
            return None
        version = int(row[0]) if row is not None else None
        self._local.seen = version
        return version

    def version_now(self) -> int | None:
        """The version this request has read already, else read now (None: unreadable)."""
        seen = self.version_seen()
        return seen if seen is not None else self.current_version()

    def version_seen(self) -> int | None:
        """The version this thread read last in the current request (None if it read none):
        the API registry trusts its copy by it, without a query of its own."""
        return getattr(self._local, "seen", None)

    def forget_seen(self) -> None:
        """The request is over: the next one reads the version afresh."""
        self._local.seen = None

    def _connect(self) -> Any:
        # Outside the pool: this connection lives as long as the worker, and only reads.
        dialect = self.engine.dialect
        args, kwargs = dialect.create_connect_args(self.engine.url)
        connection = dialect.connect(*args, **kwargs)
        if self.engine.url.get_backend_name() == "sqlite":
            connection.isolation_level = None  # autocommit: each read sees the latest commit
        else:
            connection.autocommit = True  # never "idle in transaction" between reads
        with self._lock:
            self._opened.append(connection)
        return connection

    def close(self) -> None:
        """Close the version connections (the engine is being disposed of)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            self._close_quietly(connection)

    def _discard(self, connection: Any) -> None:
        self._local.connection = None
        if connection is not None:
            with self._lock:
                if connection in self._opened:
                    self._opened.remove(connection)
            self._close_quietly(connection)

    def _close_quietly(self, connection: Any) -> None:
        try:
            connection.close()
        except self.engine.dialect.loaded_dbapi.Error:
            pass


class KeptByVersion(Generic[T]):
    """One value a worker keeps while the clients version is the one it was loaded under (the
    API registry, the login page's providers): every write that changes it moves the version
    (models._bump_clients_version), and the next request loads it again. Kept only when the
    request's snapshot shows that version (Store.sees_version)."""

    def __init__(self, store: Store, load: Callable[[], T]) -> None:
        self.store = store
        self.load = load
        self._kept: tuple[int, T] | None = None  # (version, value): replaced in one assignment

    def get(self) -> T:
        version = self.store.clients.cache.version_now()
        kept = self._kept
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        keep = version is not None and self.store.sees_version(version)
        value = self.load()
        if keep and version is not None:
            self._kept = (version, value)
        return value
