"""The key store's test places (files in keys/, or a database on SQLite or PostgreSQL) and
fixtures, shared by tests/test_keystore.py (the store's rules) and
tests/test_keystore_processes.py (processes: crashes, the lock, the CLI and the script)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from authserver.config import Settings
from authserver.db import make_engine
from authserver.keystore import KeyStore
from authserver.keystore.database import DatabaseBackend

from .conftest import _database_url, migrate_from_template
from .support import without_settings

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "key-store-test-passphrase"
KINDS = ["files", "sqlite", "postgresql"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Place:
    """Where a test's key store lives: keys/ (files), or a fresh database (whose keys dir must
    stay empty); opens views of it as other processes would."""

    kind: str
    directory: Path
    database_url: str | None = None
    tmp: Path = Path()
    engines: list[Engine] = field(default_factory=list)

    @property
    def in_database(self) -> bool:
        return self.database_url is not None

    def open(self, **options: Any) -> KeyStore:
        if self.database_url is None:
            return KeyStore(self.directory, **options)
        engine = make_engine(Settings(database_url=self.database_url))
        self.engines.append(engine)
        backend = DatabaseBackend(engine, passphrase=options.pop("passphrase", PASSPHRASE).encode(),
                                  lock_timeout=options.pop("lock_timeout", 30.0))
        return KeyStore(self.directory, backend=backend, **options)

    def env(self) -> dict[str, str]:
        """The environment of a CLI or script run against this store: this process's without
        its AUTHSERVER_* settings. In process, run the CLI with `cli_in_process`, which unsets
        them (CliRunner's env= only overrides the names it is given)."""
        env = without_settings(os.environ)
        env.update(AUTHSERVER_KEYS_DIR=str(self.directory),
                   AUTHSERVER_AUDIT_LOG=str(self.tmp / "audit.log"),
                   AUTHSERVER_INSTANCE_DIR=str(self.tmp / "instance"))
        if self.database_url is not None:
            env.update(AUTHSERVER_KEY_STORE="database", AUTHSERVER_DATABASE_URL=self.database_url,
                       AUTHSERVER_KEYS_PASSPHRASE=PASSPHRASE)
        return env

    def sql(self, statement: str, **params: Any) -> list[Any]:
        assert self.database_url is not None
        engine = make_engine(Settings(database_url=self.database_url))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    def raw(self) -> Any:
        """Everything stored, to compare before and after something that must write nothing."""
        if self.database_url is None:
            return (sorted(os.listdir(self.directory)),
                    (self.directory / "manifest.json").read_bytes())
        return (self.sql("SELECT * FROM signing_keys ORDER BY kid"),
                self.sql("SELECT version FROM key_store_version"))

    def holds(self, kid: str) -> bool:
        """Whether the private key of `kid` is still stored."""
        if self.database_url is None:
            return (self.directory / f"{kid}.pem").exists()
        return bool(self.sql("SELECT kid FROM signing_keys WHERE kid = :kid", kid=kid))


@pytest.fixture(params=KINDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    directory = tmp_path / "keys"
    if request.param == "files":
        yield Place("files", directory, tmp=tmp_path)
        return
    for url in _database_url(request, tmp_path, request.param):
        migrate_from_template(request, url)
        created = Place(request.param, directory, url, tmp=tmp_path)
        yield created
        for engine in created.engines:
            engine.dispose()
        # The database store never writes to the keys dir.
        assert not directory.exists() or os.listdir(directory) == []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(place: Place, clock: Clock) -> KeyStore:
    created = place.open(clock=clock, check_interval=0)
    created.ensure()
    return created


@pytest.fixture
def files_store(tmp_path: Path, clock: Clock) -> KeyStore:
    """For the checks of the files backend alone."""
    created = KeyStore(tmp_path / "keys", clock=clock, check_interval=0)
    created.ensure()
    return created


def states(store: KeyStore) -> dict[str, str]:
    return {k.kid: k.state for k in store.list_keys()}

