"""The database backend of the key store (AUTHSERVER_KEY_STORE=database): the keys in the
signing_keys table of the configured database, for hosts that share a database but no disk.

The same contract as files.py, with a transaction where that has a lock and atomic renames:
every writer locks the key_store_version row (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE
on PostgreSQL), reads, decides and writes, bumps the version and commits, all at once; a
writer killed half-way leaves the previous state, and two rotations from two hosts queue.
Readers poll the version (one primary-key read), and reread the keys only when it moved.
Private keys are sealed with the passphrase (sealing.py) and never leave this module in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import Key
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from ..models import KeyStoreVersion, SigningKey
from .algorithms import SIGNING_ALGS, algorithm
from .lifecycle import KeyInfo, KeyStoreError, problems
from .sealing import seal, unseal

_KEYS = cast(Table, SigningKey.__table__)
_VERSION = cast(Table, KeyStoreVersion.__table__)
WHERE = "the signing_keys table"
Stamp = tuple[int]
# Other secrets sealed with the same passphrase (authenticator apps', providers' client
# secrets): given the rekey's connection, the old and the new passphrase, one reseals its rows
# and says how many. Their owners write them (operations/mfa.py, store/idps.py).
Resealer = Callable[[Connection, bytes, bytes], int]


class DatabaseBackend:
    where = WHERE

    def __init__(self, engine: Engine, *, passphrase: bytes, lock_timeout: float = 30.0) -> None:
        self.engine = engine
        self.passphrase = passphrase
        self.lock_timeout = lock_timeout
        self._conn: Connection | None = None  # the writer's, inside locked()
        self._sealed: dict[str, str] = {}  # kid -> sealed key, as last read
        self._opened: dict[str, Key] = {}  # kid -> the key, opened once per process
        self._pending: dict[str, str] = {}  # kid -> sealed key written by write_new_key

    def prepare(self) -> None:
        pass  # the tables come with the schema (authserver db upgrade; serve migrates)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
            return
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise KeyStoreError(f"cannot read {WHERE}: {_reason(exc)}") from None

    def exists(self) -> bool:
        with self._reading() as conn:
            return bool(conn.scalar(select(func.count()).select_from(_KEYS)))

    def stamp(self) -> Stamp:
        """The version every write moves: what a reader polls."""
        with self._reading() as conn:
            version = conn.scalar(select(_VERSION.c.version).where(_VERSION.c.id == 1))
        if version is None:
            raise KeyStoreError("key_store_version has no row: run `authserver db upgrade`")
        return (int(version),)

    def read_manifest(self) -> tuple[list[KeyInfo], Stamp]:
        with self._reading() as conn:
            version = conn.scalar(select(_VERSION.c.version).where(_VERSION.c.id == 1))
            rows = conn.execute(select(_KEYS)).all()
        if not rows:
            raise KeyStoreError(
                f"{WHERE} holds no keys: run `authserver serve` once (it creates the first "
                "keys), or `authserver keys migrate --to database`")
        keys = sorted(
            (KeyInfo(kid=row.kid, state=row.state, alg=row.alg, created_at=row.created_at,
                     activated_at=row.activated_at, retired_at=row.retired_at) for row in rows),
            key=_listing_order)
        problem = problems(keys)
        if problem:
            raise KeyStoreError(f"{WHERE} {problem}" if problem.startswith("must")
                                else f"{WHERE}: {problem}")
        self._sealed = {row.kid: row.encrypted_key for row in rows}
        # Forget keys that were pruned or withdrawn.
        self._opened = {kid: key for kid, key in self._opened.items() if kid in self._sealed}
        return keys, (int(version or 0),)

    def load_private(self, key: KeyInfo) -> Key:
        opened = self._opened.get(key.kid)
        if opened is not None:
            return opened
        der = unseal(self._sealed[key.kid], self.passphrase, key.kid)
        private = serialization.load_der_private_key(der, password=None)
        jwk = algorithm(key.alg).wrap(private, key.kid, f"the stored key {key.kid}")
        self._opened[key.kid] = jwk
        return jwk

    # -- writing: only inside locked(), all in its one transaction ----------------------------

    def write_new_key(self, alg: str, key_size: int) -> str:
        """Generate a key for `alg` and seal it; it is written with the manifest that names it."""
        kind = algorithm(alg)
        private = kind.generate(key_size)
        kid = kind.thumbprint(private)
        self._seal(kid, private)
        return kid

    def write_sealed(self, kid: str, private: Key) -> None:
        """A key brought from another store (keys migrate): sealed here, written with the
        manifest."""
        self._seal(kid, private.private_key)

    def _seal(self, kid: str, private: Any) -> None:
        der = private.private_bytes(serialization.Encoding.DER,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        self._pending[kid] = seal(der, self.passphrase, kid)

    def write_manifest(self, keys: list[KeyInfo]) -> None:
        conn = self._writer()
        stored = set(conn.scalars(select(_KEYS.c.kid)))
        wanted = {k.kid for k in keys}
        if stored - wanted:
            conn.execute(delete(_KEYS).where(_KEYS.c.kid.in_(stored - wanted)))
        for key in keys:
            times = {"state": key.state, "alg": key.alg, "created_at": key.created_at,
                     "activated_at": key.activated_at, "retired_at": key.retired_at}
            if key.kid in stored:
                conn.execute(update(_KEYS).where(_KEYS.c.kid == key.kid).values(**times))
            else:
                conn.execute(insert(_KEYS).values(kid=key.kid, encrypted_key=self._pending.pop(key.kid),
                                                  **times))
        conn.execute(update(_VERSION).where(_VERSION.c.id == 1)
                     .values(version=_VERSION.c.version + 1))

    def reseal_all(self, new_passphrase: bytes,
                   others: Mapping[str, Resealer] | None = None) -> dict[str, int]:
        """Seal every key again with a new passphrase (keys rekey), and every other secret
        `others` reseal, in the writer's transaction: all or nothing. How many of each."""
        conn = self._writer()
        rows = conn.execute(select(_KEYS.c.kid, _KEYS.c.encrypted_key)).all()
        for row in rows:
            der = unseal(row.encrypted_key, self.passphrase, row.kid)
            conn.execute(update(_KEYS).where(_KEYS.c.kid == row.kid)
                         .values(encrypted_key=seal(der, new_passphrase, row.kid)))
        counts = {"keys": len(rows)}
        for name, reseal in (others or {}).items():
            counts[name] = reseal(conn, self.passphrase, new_passphrase)
        conn.execute(update(_VERSION).where(_VERSION.c.id == 1)
                     .values(version=_VERSION.c.version + 1))
        return counts

    def remove_key(self, kid: str) -> None:
        pass  # write_manifest deleted its row, in the same transaction

    def _writer(self) -> Connection:
        if self._conn is None:
            raise KeyStoreError("a key store write outside its lock")  # a bug, never input
        return self._conn

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One transaction holding the key_store_version row: writers queue on it (waiting up
        to lock_timeout seconds); it commits when the block ends, and rolls back on an error."""
        self._pending.clear()
        try:
            conn = self.engine.connect().execution_options(sqlite_write_intent=True)
        except SQLAlchemyError as exc:
            raise KeyStoreError(f"cannot reach {WHERE}: {_reason(exc)}") from None
        try:
            conn.begin()
            self._lock(conn)
            self._conn = conn
            yield
            conn.commit()
        except SQLAlchemyError as exc:
            conn.rollback()
            raise KeyStoreError(f"the key store write failed, nothing was changed: "
                                f"{_reason(exc)}") from None
        except BaseException:
            conn.rollback()
            raise
        finally:
            self._conn = None
            self._pending.clear()
            conn.close()

    def _lock(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'"))
            found = conn.scalar(select(_VERSION.c.id).where(_VERSION.c.id == 1).with_for_update())
        else:
            # SQLite: BEGIN IMMEDIATE (sqlite_write_intent) already holds the write lock.
            found = conn.scalar(select(_VERSION.c.id).where(_VERSION.c.id == 1))
        if found is None:
            raise KeyStoreError("key_store_version has no row: run `authserver db upgrade`")


def _listing_order(key: KeyInfo) -> tuple[float, int, float, str]:
    """The order keys/manifest.json keeps them in (by creation, the algorithms in their
    order, then by when each began to sign: the first current key before the next key made
    with it), so that `keys list` reads the same on both backends."""
    activated = key.activated_at if key.activated_at is not None else float("inf")
    order = SIGNING_ALGS.index(key.alg) if key.alg in SIGNING_ALGS else len(SIGNING_ALGS)
    return (key.created_at, order, activated, key.kid)


def _reason(exc: SQLAlchemyError) -> str:
    original: Any = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
