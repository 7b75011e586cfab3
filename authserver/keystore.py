"""The rotating key store over keys/: the only module that touches signing keys.

Layout of the directory (0700):
    manifest.json   the state: every published key with its lifecycle times (written atomically)
    <kid>.pem       one private key per file (0600), PKCS#8, encrypted when a passphrase is set
    .lock           flock()ed by every writer, so concurrent rotations queue instead of racing

Lifecycle: `next` (published, not signing) -> `current` (the one signing key) -> `retired`
(published until every token it signed has expired) -> pruned. Writers put key files in place
before the manifest names them and delete files only after the manifest has dropped them, so a
crash at any point leaves a store that loads with every published key present.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import KeySet, RSAKey

MANIFEST = "manifest.json"
LOCK = ".lock"
FORMAT_VERSION = 1
NEXT, CURRENT, RETIRED = "next", "current", "retired"
SUPPORTED_ALGS = ("RS256",)
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class KeyStoreError(Exception):
    """The key store cannot be used as it is; the message names the file and the problem."""


class RotationRefused(KeyStoreError):
    """Rotating now could break tokens or caches; the message says why and how long to wait."""


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class WithdrawResult:
    withdrawn: str
    state: str  # what the key was: retired or next
    new_next: str | None = None  # the fresh next key, when the next key was withdrawn

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    state: str
    alg: str
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None
    retires_at: float | None = None  # when a retired key may be pruned

    def to_manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("retires_at")
        return {k: v for k, v in data.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "state": self.state,
            "alg": self.alg,
            "created_at": _iso(self.created_at),
            "activated_at": _iso(self.activated_at),
            "retired_at": _iso(self.retired_at),
            "retires_at": _iso(self.retires_at),
        }


@dataclass
class RotationResult:
    retired: str | None
    current: str
    next: str
    dry_run: bool = False
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PruneResult:
    pruned: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Loaded:
    """One immutable snapshot of the store; swapped whole on reload, so readers never see a mix."""

    keys: tuple[KeyInfo, ...]
    signing_key: RSAKey
    signing_keyset: KeySet
    public_keyset: KeySet
    jwks: dict[str, Any]
    jwks_json: bytes
    stamp: tuple[int, int, int]


class KeyStore:
    def __init__(
        self,
        directory: str | Path,
        *,
        jwks_max_age: int = 600,
        retire_after: int = 960,
        key_size: int = 2048,
        passphrase: str | None = None,
        alg: str = "RS256",
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        lock_timeout: float = 30.0,
    ) -> None:
        if alg not in SUPPORTED_ALGS:
            raise KeyStoreError(f"unsupported key algorithm {alg!r}; supported: {SUPPORTED_ALGS}")
        if key_size < 2048:
            raise KeyStoreError("RSA keys must be at least 2048 bits (RFC 7518 §3.3)")
        self.directory = Path(directory)
        self.jwks_max_age = jwks_max_age
        self.retire_after = retire_after
        self.key_size = key_size
        self.passphrase = passphrase.encode() if passphrase else None
        self.alg = alg
        self.check_interval = check_interval
        self.lock_timeout = lock_timeout
        self._clock = clock
        self._loaded: _Loaded | None = None
        self._next_check = 0.0
        self._reload_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> KeyStore:
        return cls(
            settings.keys_dir,
            jwks_max_age=settings.jwks_max_age,
            # A retired key must outlive every token it signed, plus the verifiers' clock skew.
            retire_after=settings.longest_token_ttl + settings.leeway,
            key_size=settings.key_size,
            passphrase=settings.keys_passphrase,
        )

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    # -- start-up ---------------------------------------------------------------------------

    def ensure(self) -> None:
        """Load the store; create it (a current and a next key) only when there is none yet."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A checkout's keys/ comes from git as 0755 (it holds the README): private keys live
        # here, so nobody else may even list them.
        os.chmod(self.directory, 0o700)
        with self._locked():
            if not self.manifest_path.exists():
                now = self._clock()
                current = self._new_key(CURRENT, now, activated_at=now)
                upcoming = self._new_key(NEXT, now)
                self._write_manifest([current, upcoming])
        self.load()

    def load(self) -> None:
        """Load (or reload) the store; raises KeyStoreError if it is missing or broken."""
        with self._reload_lock:
            self._loaded = self._read()
            self._next_check = time.monotonic() + self.check_interval

    # -- hot path: cached, a stat() at most every check_interval -------------------------------

    def _snapshot(self) -> _Loaded:
        loaded = self._loaded
        if loaded is None:
            self.load()
            assert self._loaded is not None
            return self._loaded
        if time.monotonic() >= self._next_check:
            self._maybe_reload(loaded)
            loaded = self._loaded
            assert loaded is not None
        return loaded

    def _maybe_reload(self, loaded: _Loaded) -> None:
        with self._reload_lock:
            self._next_check = time.monotonic() + self.check_interval
            try:
                stamp = self._stamp()
            except OSError:
                return  # keep serving what we have; the operator sees errors from the CLI
            if stamp == loaded.stamp:
                return
            try:
                self._loaded = self._read()
            except KeyStoreError:
                # A half-broken store must not take a running server down: keep the last good
                # keys and try again at the next check.
                return

    def signing_key(self) -> RSAKey:
        return self._snapshot().signing_key

    def signing_keyset(self) -> KeySet:
        """A set holding only the current key: joserfc writes `kid` when it picks from a set."""
        return self._snapshot().signing_keyset

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
        """The keys as they are on disk now: for the CLI."""
        return list(self._read().keys)

    # -- operations ---------------------------------------------------------------------------

    def rotate(self, *, force: bool = False, dry_run: bool = False) -> RotationResult:
        """next -> current, current -> retired, and a fresh next."""
        with self._locked():
            keys = list(self._read().keys)
            now = self._clock()
            upcoming = self._one(keys, NEXT)
            current = self._one(keys, CURRENT)
            published_for = now - upcoming.created_at
            if published_for < self.jwks_max_age and not force:
                wait = int(self.jwks_max_age - published_for) + 1
                raise RotationRefused(
                    f"the next key {upcoming.kid} has been published for {int(published_for)}s, "
                    f"less than the JWKS cache lifetime ({self.jwks_max_age}s): caches may not "
                    f"know it yet. Try again in {wait}s, or use --force."
                )
            result = RotationResult(
                retired=current.kid, current=upcoming.kid, next="(new)", dry_run=dry_run,
                forced=force and published_for < self.jwks_max_age,
            )
            if dry_run:
                return result
            fresh = self._new_key(NEXT, now)
            changed = {
                current.kid: replace(current, state=RETIRED, retired_at=now),
                upcoming.kid: replace(upcoming, state=CURRENT, activated_at=now),
            }
            self._write_manifest([changed.get(k.kid, k) for k in keys] + [fresh])
            result.next = fresh.kid
        self.load()
        return result

    def prune(self, *, dry_run: bool = False) -> PruneResult:
        """Drop retired keys whose every token has expired."""
        with self._locked():
            keys = list(self._read().keys)
            now = self._clock()
            gone = [
                k for k in keys
                if k.state == RETIRED and k.retires_at is not None and k.retires_at <= now
            ]
            result = PruneResult(pruned=[k.kid for k in gone], dry_run=dry_run)
            if dry_run or not gone:
                return result
            self._write_manifest([k for k in keys if k not in gone])
            for key in gone:
                # Only after the manifest stopped naming it: a crash before here leaves an
                # orphan file, which is harmless.
                (self.directory / f"{key.kid}.pem").unlink(missing_ok=True)
        self.load()
        return result

    def withdraw(self, kid: str) -> WithdrawResult:
        """Take a key out of the store now, before its tokens expire (it is compromised): every
        token it signed stops validating once verifiers reload. A withdrawn `next` key is
        replaced by a fresh one; the `current` key must be rotated away first."""
        with self._locked():
            keys = list(self._read().keys)
            key = next((k for k in keys if k.kid == kid), None)
            if key is None:
                raise KeyStoreError(f"no key {kid!r} in {self.manifest_path}")
            if key.state == CURRENT:
                raise KeyStoreError(
                    f"{kid} is the current signing key: run `authserver keys rotate --force` "
                    "first (it retires it and promotes the next key), then withdraw it"
                )
            kept = [k for k in keys if k.kid != kid]
            replacement = self._new_key(NEXT, self._clock()) if key.state == NEXT else None
            self._write_manifest(kept + ([replacement] if replacement else []))
            # Only after the manifest stopped naming it (as in prune).
            (self.directory / f"{kid}.pem").unlink(missing_ok=True)
        self.load()
        return WithdrawResult(withdrawn=kid, state=key.state,
                              new_next=replacement.kid if replacement else None)

    # -- reading ------------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int, int]:
        info = os.stat(self.manifest_path)
        return (info.st_mtime_ns, info.st_ino, info.st_size)

    def _read(self) -> _Loaded:
        path = self.manifest_path
        try:
            stamp = self._stamp()
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(
                f"{path} does not exist: run `authserver serve` once (it creates the first "
                "keys), or point AUTHSERVER_KEYS_DIR at the key store"
            ) from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        keys = self._parse_manifest(raw)
        private: dict[str, RSAKey] = {k.kid: self._load_private(k) for k in keys}
        current = private[self._one(keys, CURRENT).kid]
        public_jwks = [self._public_jwk(private[k.kid], k) for k in keys]
        jwks = {"keys": public_jwks}
        return _Loaded(
            keys=tuple(keys),
            signing_key=current,
            signing_keyset=KeySet([current]),
            public_keyset=KeySet([RSAKey.import_key(jwk) for jwk in public_jwks]),
            jwks=jwks,
            jwks_json=json.dumps(jwks, separators=(",", ":")).encode(),
            stamp=stamp,
        )

    def _parse_manifest(self, raw: bytes) -> list[KeyInfo]:
        path = self.manifest_path
        try:
            data = json.loads(raw)
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            keys = [
                KeyInfo(
                    kid=str(entry["kid"]),
                    state=str(entry["state"]),
                    alg=str(entry.get("alg", "RS256")),
                    created_at=float(entry["created_at"]),
                    activated_at=entry.get("activated_at"),
                    retired_at=entry.get("retired_at"),
                )
                for entry in data["keys"]
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyStoreError(f"{path} is corrupt ({exc}); restore it from a backup") from None
        for key in keys:
            if key.state not in (NEXT, CURRENT, RETIRED):
                raise KeyStoreError(f"{path}: key {key.kid} has unknown state {key.state!r}")
        for state in (CURRENT, NEXT):
            count = sum(k.state == state for k in keys)
            if count != 1:
                raise KeyStoreError(f"{path} must name exactly one {state} key, it names {count}")
        return [self._with_retirement(k) for k in keys]

    def _with_retirement(self, key: KeyInfo) -> KeyInfo:
        if key.retired_at is None:
            return key
        return replace(key, retires_at=key.retired_at + self.retire_after)

    def _load_private(self, key: KeyInfo) -> RSAKey:
        path = self.directory / f"{key.kid}.pem"
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"{path} is missing but {self.manifest_path} names it") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        try:
            private = serialization.load_pem_private_key(pem, password=self.passphrase)
        except TypeError:
            raise KeyStoreError(
                f"{path} is encrypted: set AUTHSERVER_KEYS_PASSPHRASE"
                if self.passphrase is None
                else f"{path} is not encrypted but AUTHSERVER_KEYS_PASSPHRASE is set"
            ) from None
        except ValueError:
            raise KeyStoreError(
                f"cannot load {path}: wrong AUTHSERVER_KEYS_PASSPHRASE or a corrupt key"
            ) from None
        if not isinstance(private, rsa.RSAPrivateKey):
            raise KeyStoreError(f"{path} is not an RSA private key")
        jwk = RSAKey.import_key(private, {"alg": key.alg, "use": "sig"})
        if jwk.thumbprint() != key.kid:
            raise KeyStoreError(f"{path} does not hold the key {key.kid} (thumbprint mismatch)")
        jwk.ensure_kid()
        return jwk

    @staticmethod
    def _public_jwk(private: RSAKey, key: KeyInfo) -> dict[str, Any]:
        public = private.as_dict(private=False)
        public.update(kid=key.kid, alg=key.alg, use="sig")
        # Belt and braces: the JWKS is public, whatever the key object holds.
        return {k: v for k, v in public.items() if k not in PRIVATE_JWK_MEMBERS}

    @staticmethod
    def _one(keys: list[KeyInfo], state: str) -> KeyInfo:
        return next(k for k in keys if k.state == state)

    # -- writing ------------------------------------------------------------------------------

    def _new_key(self, state: str, now: float, activated_at: float | None = None) -> KeyInfo:
        private = rsa.generate_private_key(public_exponent=65537, key_size=self.key_size)
        # kid is the RFC 7638 thumbprint: stable, derived from the key, never reused.
        kid = RSAKey.import_key(private).thumbprint()
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self.passphrase)
            if self.passphrase
            else serialization.NoEncryption()
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        self._write_atomic(self.directory / f"{kid}.pem", pem)
        return KeyInfo(kid=kid, state=state, alg=self.alg, created_at=now,
                       activated_at=activated_at)

    def _write_manifest(self, keys: list[KeyInfo]) -> None:
        data = {"version": FORMAT_VERSION, "keys": [k.to_manifest() for k in keys]}
        self._write_atomic(self.manifest_path, (json.dumps(data, indent=2) + "\n").encode())

    def _write_atomic(self, path: Path, content: bytes) -> None:
        """temp file in the same directory, fsync, rename over, fsync the directory."""
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive flock on keys/.lock, waited for up to lock_timeout seconds."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise KeyStoreError(
                            f"{self.directory / LOCK} is held by another process (a rotation "
                            f"in progress?) for more than {self.lock_timeout:.0f}s"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock
