"""The file backend of the key store: keys/ on disk, written so that a crash at any point leaves
a store that loads.

Layout of the directory (0700):
    manifest.json   the state: every published key with its lifecycle times (written atomically)
    <kid>.pem       one private key per file (0600), PKCS#8, encrypted when a passphrase is set
                    (RSA, P-256 or Ed25519, as the manifest's `alg` for it says)
    .lock           flock()ed by every writer, so concurrent rotations queue instead of racing

Writers put key files in place before the manifest names them and delete files only after the
manifest has dropped them, so every published key is always present.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import Key

from .algorithms import algorithm
from .lifecycle import KeyInfo, KeyStoreError, problems

MANIFEST = "manifest.json"
LOCK = ".lock"
FORMAT_VERSION = 1
Stamp = tuple[int, int, int]

# Private keys parsed in this process, by their file's bytes and the passphrase: parsing checks
# an RSA key's primes (about 35 ms a key), and each worker reads every file again when it
# sees a rotation (and the tests build an app per test from the same files). The same bytes
# under the same passphrase are the same key, checked once; other bytes are parsed and
# checked as ever. Bounded: the oldest entries go first.
_PARSED: OrderedDict[tuple[bytes, bytes | None], Any] = OrderedDict()
_PARSED_MAX = 64
_parsed_lock = threading.Lock()


def _parse_pem(pem: bytes, passphrase: bytes | None) -> Any:
    entry = (pem, passphrase)
    private = _PARSED.get(entry)
    if private is None:
        private = serialization.load_pem_private_key(pem, password=passphrase)
        with _parsed_lock:
            _PARSED[entry] = private
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
    return private


class FileBackend:
    def __init__(self, directory: str | Path, *, passphrase: bytes | None,
                 lock_timeout: float = 30.0) -> None:
        self.directory = Path(directory)
        self.passphrase = passphrase
        self.lock_timeout = lock_timeout
        # keys migrate reads a store as it is: unencrypted files although a passphrase is set
        # (for the target). Everywhere else that mismatch is a configuration error.
        self.accept_unencrypted = False

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    @property
    def where(self) -> str:
        return str(self.manifest_path)

    def prepare(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A checkout's keys/ comes from git as 0755 (it holds the README): private keys live
        # here, so nobody else may even list them.
        os.chmod(self.directory, 0o700)

    def exists(self) -> bool:
        return self.manifest_path.exists()

    # -- reading ------------------------------------------------------------------------------

    def stamp(self) -> Stamp:
        """Changes whenever the manifest is replaced: what a reader polls."""
        info = os.stat(self.manifest_path)
        return (info.st_mtime_ns, info.st_ino, info.st_size)

    def read_manifest(self) -> tuple[list[KeyInfo], Stamp]:
        path = self.manifest_path
        try:
            stamp = self.stamp()
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(
                f"{path} does not exist: run `authserver serve` once (it creates the first "
                "keys), or point AUTHSERVER_KEYS_DIR at the key store"
            ) from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
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
        problem = problems(keys)
        if problem:
            raise KeyStoreError(f"{path} {problem}" if problem.startswith("must")
                                else f"{path}: {problem}")
        return keys, stamp

    def load_private(self, key: KeyInfo) -> Key:
        path = self.directory / f"{key.kid}.pem"
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"{path} is missing but {self.manifest_path} names it") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        try:
            private = _parse_pem(pem, self.passphrase)
        except TypeError:
            if self.accept_unencrypted and self.passphrase is not None:
                return self._checked(key, serialization.load_pem_private_key(pem, password=None),
                                     path)
            raise KeyStoreError(
                f"{path} is encrypted: set AUTHSERVER_KEYS_PASSPHRASE"
                if self.passphrase is None
                else f"{path} is not encrypted but AUTHSERVER_KEYS_PASSPHRASE is set"
            ) from None
        except ValueError:
            raise KeyStoreError(
                f"cannot load {path}: wrong AUTHSERVER_KEYS_PASSPHRASE or a corrupt key"
            ) from None
        return self._checked(key, private, path)

    def _checked(self, key: KeyInfo, private: object, path: Path) -> Key:
        # The kid is the key's RFC 7638 thumbprint: a file that holds another key is refused.
        return algorithm(key.alg).wrap(private, key.kid, str(path))

    # -- writing ------------------------------------------------------------------------------

    def write_new_key(self, alg: str, key_size: int) -> str:
        """Generate a key for `alg`, write its file, and return its kid (the RFC 7638
        thumbprint: stable, derived from the key, never reused). No manifest names it yet."""
        kind = algorithm(alg)
        private = kind.generate(key_size)
        kid = kind.thumbprint(private)
        self._write_key(kid, private)
        return kid

    def write_sealed(self, kid: str, private: Key) -> None:
        """A key brought from another store (keys migrate): its file, before the manifest."""
        self._write_key(kid, private.private_key)

    def _write_key(self, kid: str, private: Any) -> None:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self.passphrase)
            if self.passphrase
            else serialization.NoEncryption()
        )
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        self._write_atomic(self.directory / f"{kid}.pem", pem)

    def write_manifest(self, keys: list[KeyInfo]) -> None:
        data = {"version": FORMAT_VERSION, "keys": [k.to_manifest() for k in keys]}
        self._write_atomic(self.manifest_path, (json.dumps(data, indent=2) + "\n").encode())

    def remove_key(self, kid: str) -> None:
        """Only once the manifest stopped naming it: a crash before here leaves an orphan
        file, which is harmless."""
        (self.directory / f"{kid}.pem").unlink(missing_ok=True)

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
    def locked(self) -> Iterator[None]:
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
