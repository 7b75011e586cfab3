"""Engine and session setup: one SQLAlchemy session per request (or per CLI command)."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import NullPool

from .config import Settings
from .db_trouble import DatabaseUnusable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Execution option that asks SQLite for BEGIN IMMEDIATE: a transaction that will write takes the
# write lock up front, so two writers queue on busy_timeout instead of one failing on upgrade.
WRITE_INTENT = {"sqlite_write_intent": True}


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN can't
        # be made IMMEDIATE), and make concurrent readers not block the writer (WAL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_write_intent")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if _is_sqlite(url):
        _prepare_sqlite_file(url)
        engine = create_engine(url)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    _ping_when_idle(engine)
    return engine


# A pooled connection idle longer than this is pinged before use (the server may have closed
# it meanwhile); one back in use sooner is trusted: pinging each checkout (pool_pre_ping) cost a
# round trip per request. A connection that died within the window fails one statement (a
# 503), and SQLAlchemy then invalidates the whole pool, so each worker loses one request at
# most per database restart.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new (it just connected) or recently used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raises for a dead connection
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the pooled connection did not answer a ping")


class Database:
    """The engine and a scoped session factory for one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_sqlite = _is_sqlite(settings.database_url)
        self.engine = make_engine(settings)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.scoped = scoped_session(self.session_factory)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a request (CLI): committed on success, rolled back on error."""
        with self.session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.scoped.remove()
        self.engine.dispose()


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class Migration:
    """What `migrate` did: the schema revision before (None: no schema yet) and after."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before == self.after:
            return f"the database schema is up to date (revision {self.after})"
        if self.before is None:
            return f"created the database schema (revision {self.after})"
        return f"upgraded the database schema from revision {self.before} to {self.after}"


def schema_revision(database_url: str) -> str | None:
    """The Alembic revision the database is at (None: no schema), without changing anything."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@functools.cache
def _migration_scripts() -> ScriptDirectory:
    """The package's migrations, read once per process (Alembic loads every revision file to
    learn the head: most of what a CLI command cost before doing its work)."""
    return ScriptDirectory.from_config(alembic_config(""))


def head_revision() -> str | None:
    return _migration_scripts().get_current_head()


def migrate(settings: Settings) -> Migration:
    """Bring the schema to the newest Alembic revision (the only way the schema is created).
    A database that cannot be used at all raises DatabaseUnusable, one line for the operator."""
    url = settings.database_url
    try:
        if _is_sqlite(url):
            _prepare_sqlite_file(url)
        before = schema_revision(url)
        if before != head_revision():  # at the head already: nothing to run
            command.upgrade(alembic_config(url), "head")
    except (SQLAlchemyError, ImportError, OSError) as exc:
        raise DatabaseUnusable.from_error(exc, url) from exc
    return Migration(before=before, after=head_revision())


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE changed (the conditional claims rely on it)."""
    return int(cast(CursorResult[Any], result).rowcount)

