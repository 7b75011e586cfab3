"""The rotating key store: the only package that touches signing keys.

`lifecycle` holds the rules (pre-publication, retirement, withdrawal) as functions on lists
of keys; `files` the crash-safe on-disk backend, `database` the one in a table of the
database (its keys sealed by `sealing`); `snapshot` the loaded view the hot path reads.
`KeyStore` puts them together: a rotation is read, decide, write, all under the backend's lock;
`transfer` moves every key to another store or passphrase.
Every configured algorithm (`algorithms`) has its own lifecycle in the one store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joserfc.jwk import Key, KeySet

from . import lifecycle
from .algorithms import SIGNING_ALGS, algorithm
from .database import DatabaseBackend
from .files import FileBackend
from .lifecycle import (
    CURRENT,
    NEXT,
    RETIRED,
    KeyInfo,
    KeyStoreError,
    PruneResult,
    RotationRefused,
    RotationResult,
    WithdrawResult,
)
from .snapshot import PRIVATE_JWK_MEMBERS, Snapshot, build

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["CURRENT", "NEXT", "PRIVATE_JWK_MEMBERS", "RETIRED", "SIGNING_ALGS", "KeyInfo",
           "KeyStore", "KeyStoreError", "PruneResult", "RotationRefused", "RotationResult",
           "WithdrawResult"]


Backend = FileBackend | DatabaseBackend


class KeyStore:
    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        backend: Backend | None = None,
        jwks_max_age: int = 600,
        retire_after: int = 960,
        key_size: int = 2048,
        passphrase: str | None = None,
        algs: tuple[str, ...] = ("RS256",),
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        lock_timeout: float = 30.0,
    ) -> None:
        if not algs:
            raise KeyStoreError("a key store needs at least one signing algorithm")
        for alg in algs:
            algorithm(alg)  # raises, naming it, for an unknown one
        if key_size < 2048:
            raise KeyStoreError("RSA keys must be at least 2048 bits (RFC 7518 §3.3)")
        if backend is None:
            if directory is None:
                raise KeyStoreError("a key store needs a directory or a backend")
            backend = FileBackend(directory, passphrase=passphrase.encode() if passphrase else None,
                                  lock_timeout=lock_timeout)
        self.backend: Backend = backend
        self.jwks_max_age = jwks_max_age
        self.retire_after = retire_after
        self.key_size = key_size
        self.algs = tuple(algs)  # the configured ones; the first is the default
        self.check_interval = check_interval
        self._clock = clock
        self._loaded: Snapshot | None = None
        self._next_check = 0.0
        self._reload_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, key_store: str | None = None) -> KeyStore:
        """The store the settings name (or `key_store`, "files" or "database", instead)."""
        backend: Backend | None = None
        if (key_store or settings.key_store) == "database":
            from ..db import make_engine

            if not settings.keys_passphrase:
                raise KeyStoreError("the database key store needs AUTHSERVER_KEYS_PASSPHRASE")
            backend = DatabaseBackend(make_engine(settings),
                                      passphrase=settings.keys_passphrase.encode())
        return cls(
            settings.keys_dir,
            backend=backend,
            jwks_max_age=settings.jwks_max_age,
            # A retired key must outlive every token it signed, plus the verifiers' clock skew.
            retire_after=settings.longest_token_ttl + settings.leeway,
            key_size=settings.key_size,
            passphrase=settings.keys_passphrase,
            algs=settings.signing_algs,
        )

    @property
    def directory(self) -> Path:
        """keys/, for the files backend (tests and the CLI's messages)."""
        if not isinstance(self.backend, FileBackend):
            raise KeyStoreError("the database key store has no directory")
        return self.backend.directory

    @property
    def where(self) -> str:
        """Where the keys are, for messages: the manifest file, or the table."""
        return self.backend.where

    def close(self) -> None:
        """Let go of the backend's connections (before a fork, or at the end of a command)."""
        if isinstance(self.backend, DatabaseBackend):
            self.backend.close()

    # -- start-up ---------------------------------------------------------------------------

    @property
    def default_alg(self) -> str:
        return self.algs[0]

    def ensure(self) -> None:
        """Load the store; create it when there is none yet, and give every configured
        algorithm that has no keys its first ones (a current key that signs at once, and a
        next key), in one write."""
        self.backend.prepare()
        with self.backend.locked():
            keys = self.list_keys() if self.backend.exists() else []
            added = self._first_keys(keys, self._clock())
            if added:
                self.backend.write_manifest(keys + added)
        self.load()

    def _first_keys(self, keys: list[KeyInfo], now: float,
                    only: str | None = None) -> list[KeyInfo]:
        """A current and a next key for each configured algorithm (or `only` that one) the
        store has none of."""
        present = set(lifecycle.algorithms_of(keys))
        added: list[KeyInfo] = []
        for alg in (a for a in SIGNING_ALGS
                    if a in self.algs and a not in present and only in (None, a)):
            added += [self._new_key(alg, CURRENT, now, activated_at=now),
                      self._new_key(alg, NEXT, now)]
        return added

    def load(self) -> None:
        """Load (or reload) the store; raises KeyStoreError if it is missing or broken."""
        with self._reload_lock:
            self._loaded = self._read()
            self._next_check = time.monotonic() + self.check_interval

    # -- hot path: cached, a stat() at most every check_interval -------------------------------

    def _snapshot(self) -> Snapshot:
        if self._loaded is None:
            self.load()
        elif time.monotonic() >= self._next_check:
            self._maybe_reload(self._loaded)
        assert self._loaded is not None
        return self._loaded

    def _maybe_reload(self, loaded: Snapshot) -> None:
        with self._reload_lock:
            self._next_check = time.monotonic() + self.check_interval
            try:
                stamp = self.backend.stamp()
            except (OSError, KeyStoreError):
                return  # keep serving what we have; the operator sees errors from the CLI
            if stamp == loaded.stamp:
                return
            try:
                self._loaded = self._read()
            except KeyStoreError:
                # A half-broken store must not take a running server down: keep the last good
                # keys and try again at the next check.
                return

    def signing_key(self, alg: str | None = None) -> Key:
        """The current key of `alg` (default: the first configured algorithm)."""
        return self._snapshot().signing_pair(alg or self.algs[0])[0]

    def signing_keyset(self, alg: str | None = None) -> KeySet:
        """A set holding only the current key of `alg` (default: the first configured): joserfc
        writes `kid` when it picks from a set."""
        return self._snapshot().signing_pair(alg or self.algs[0])[1]

    def missing_algs(self) -> list[str]:
        """Configured algorithms the loaded store has no key of (serve's start creates them)."""
        return [alg for alg in self.algs if alg not in self._snapshot().signing]

    def public_keyset(self) -> KeySet:
        return self._snapshot().public_keyset

    def jwks(self) -> dict[str, Any]:
        return self._snapshot().jwks

    def jwks_json(self) -> bytes:
        return self._snapshot().jwks_json

    def published_keys(self) -> tuple[KeyInfo, ...]:
        """The keys as loaded (reloaded at most every check_interval): for the hot path."""
        return self._snapshot().keys

    def list_keys(self) -> list[KeyInfo]:
        """The keys as they are in the store now: for the CLI."""
        return list(self._read().keys)

    # -- operations ---------------------------------------------------------------------------

    def rotate(self, *, force: bool = False, dry_run: bool = False,
               alg: str | None = None) -> list[RotationResult]:
        """For every configured algorithm of the store (or only `alg`): next -> current, current ->
        retired, and a fresh next. A configured algorithm without keys gets its first ones
        instead (retired: None). All or nothing: one refused rotation writes nothing."""
        if alg is not None and alg not in self.algs:
            algorithm(alg)
            raise KeyStoreError(f"{alg} is not in AUTHSERVER_SIGNING_ALGS "
                                f"({' '.join(self.algs)})")
        with self.backend.locked():
            keys = self.list_keys()
            now = self._clock()
            present = lifecycle.algorithms_of(keys)
            rotating = [a for a in SIGNING_ALGS if a in present and a in self.algs and alg in (None, a)]
            results = [RotationResult(
                retired=lifecycle.one(keys, CURRENT, a).kid,
                current=lifecycle.one(keys, NEXT, a).kid, next=None, dry_run=dry_run,
                forced=lifecycle.check_rotation(keys, a, now, self.jwks_max_age, force), alg=a,
            ) for a in rotating]
            first = [a for a in self.algs if a not in present and alg in (None, a)]
            results += [RotationResult(retired=None, current="", next=None, dry_run=dry_run,
                                       alg=a) for a in first]
            if dry_run:
                return results
            for result in results[:len(rotating)]:
                fresh = self._new_key(result.alg, NEXT, now)
                keys = lifecycle.rotated(keys, fresh, now)
                result.next = fresh.kid
            added = self._first_keys(keys, now, only=alg)
            for result in results[len(rotating):]:
                made = [k for k in added if k.alg == result.alg]
                result.current, result.next = made[0].kid, made[1].kid
            self.backend.write_manifest(keys + added)
        self.load()
        return results

    def prune(self, *, dry_run: bool = False) -> PruneResult:
        """Drop retired keys whose every token has expired."""
        with self.backend.locked():
            keys = self.list_keys()
            gone = lifecycle.prunable(keys, self._clock())
            result = PruneResult(pruned=[k.kid for k in gone], dry_run=dry_run)
            if dry_run or not gone:
                return result
            self.backend.write_manifest([k for k in keys if k not in gone])
            for key in gone:
                self.backend.remove_key(key.kid)
        self.load()
        return result

    def withdraw(self, kid: str) -> WithdrawResult:
        """Take a key out of the store now, before its tokens expire (it is compromised): every
        token it signed stops validating once verifiers reload. A withdrawn `next` key is
        replaced by a fresh one; the `current` key must be rotated away first."""
        with self.backend.locked():
            keys = self.list_keys()
            key = lifecycle.withdrawable(keys, kid, self.where)
            kept = [k for k in keys if k.kid != kid]
            replacement = (self._new_key(key.alg, NEXT, self._clock()) if key.state == NEXT
                           else None)
            self.backend.write_manifest(kept + ([replacement] if replacement else []))
            self.backend.remove_key(kid)
        self.load()
        return WithdrawResult(withdrawn=kid, state=key.state,
                              new_next=replacement.kid if replacement else None)

    # -- internals ----------------------------------------------------------------------------

    def _read(self) -> Snapshot:
        return build(*self.read_keys())

    def read_keys(self) -> tuple[list[KeyInfo], dict[str, Key], Any]:
        """Every key with its private half, and the backend's change stamp."""
        keys, stamp = self.backend.read_manifest()
        keys = [lifecycle.with_retirement(k, self.retire_after) for k in keys]
        return keys, {k.kid: self.backend.load_private(k) for k in keys}, stamp

    def _new_key(self, alg: str, state: str, now: float,
                 activated_at: float | None = None) -> KeyInfo:
        kid = self.backend.write_new_key(alg, self.key_size)
        return KeyInfo(kid=kid, state=state, alg=alg, created_at=now, activated_at=activated_at)
