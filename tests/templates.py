"""Migrated database templates: the Alembic migrations run once per session and backend, and
each test gets a copy (migrating took 1.2-2 s per test on SQLite, 0.5 s on PostgreSQL).

SQLite: the template is a migrated file, copied to the test's path. PostgreSQL: the template is
a migrated schema whose definition (pg_dump --schema-only plus its rows: the Alembic version
and the version counters the migrations insert) is replayed into the test's own empty schema.
A copy is exactly what `migrate` made, so the migrations stay the only source of the schema.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from authserver.config import Settings
from authserver.db import migrate

# Stands for the schema's name in the recorded definition (never a real identifier).
PLACEHOLDER = "authserver_template_schema_placeholder"
POOLED = "p_"  # the names of PostgresSchemaPool's schemas begin so


def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrate(Settings(database_url=f"sqlite:///{path}"))
    return path


def copy_sqlite_template(template: Path, database_url: str) -> bool:
    """Copy the template to the file `database_url` names; False when it is not a new file."""
    target = make_url(database_url).database
    if not target or target == ":memory:" or Path(target).exists():
        return False
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return True


def schema_url(server_url: str, schema: str) -> str:
    """The URL of `server_url` with `schema` first on the search path (read by `schema_of`)."""
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{schema}"


def schema_of(database_url: str) -> str | None:
    """The schema a `postgres_schema` URL puts first on the search path, if any."""
    options = make_url(database_url).query.get("options")
    if not isinstance(options, str):
        return None
    for option in options.split():
        if option.startswith("-csearch_path="):
            return option.removeprefix("-csearch_path=").split(",")[0]
    return None


@dataclass(frozen=True)
class PostgresTemplate:
    server_url: str
    definition: str  # SQL with PLACEHOLDER for the schema's name

    def fill(self, database_url: str) -> bool:
        """Create the migrated tables in the (empty) schema of `database_url`; False when the
        URL names no schema of ours."""
        schema = schema_of(database_url)
        if schema is None or not schema.startswith("t_"):
            return False
        engine = create_engine(self.server_url)
        try:
            with engine.begin() as conn:
                # A test database: losing the last commits in a crash is fine, waiting is not.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                conn.exec_driver_sql(self.definition.replace(PLACEHOLDER, schema))
        finally:
            engine.dispose()
        return True

    @cached_property
    def tables(self) -> list[str]:
        return re.findall(rf"^CREATE TABLE {PLACEHOLDER}\.(\w+) \(", self.definition, re.MULTILINE)

    @cached_property
    def rows(self) -> str:
        """What the migrations wrote besides the tables: their rows (the Alembic version, the
        version counters) and every sequence's value."""
        return "\n".join(line for line in self.definition.splitlines()
                         if line.startswith(("INSERT INTO ", "SELECT pg_catalog.setval(")))


# The tables, columns and constraints of a schema, as one row of sums (names, types, kinds):
# equal for two schemas made from one definition, whatever their names.
SHAPE = text("""SELECT
  (SELECT sum(hashtext(r.relname::text || ' ' || r.relkind::text))
     FROM pg_class r WHERE r.relnamespace = n.oid),
  (SELECT sum(hashtext(k.relname::text || ' ' || a.attname::text || ' ' || a.atttypid::text
                       || ' ' || a.atttypmod::text || ' ' || a.attnotnull::text))
     FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid
     WHERE k.relnamespace = n.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT sum(hashtext(c.conname::text || ' ' || c.contype::text || ' ' || c.confdeltype::text))
     FROM pg_constraint c WHERE c.connamespace = n.oid)
  FROM pg_namespace n WHERE n.nspname = :schema""")


class PostgresSchemaPool:
    """Migrated schemas for the tests of one process, used again: after a test its schema is
    emptied (every row deleted, the migrations' rows and the sequences' values put back, about
    15 ms) instead of dropped and made again from the definition (about 180 ms). A schema
    whose tables, columns or constraints are not the template's any more (a test migrated it
    down), or that cannot be emptied, is dropped instead."""

    def __init__(self, template: PostgresTemplate) -> None:
        self.template = template
        self.engine = create_engine(template.server_url)
        self.free: list[str] = []
        self.shape: tuple[object, ...] | None = None

    @contextmanager
    def schema(self) -> Iterator[str]:
        """The URL of a migrated schema of this test's own, emptied afterwards."""
        name = self.free.pop() if self.free else self._new()
        try:
            yield schema_url(self.template.server_url, name)
        finally:
            if self._emptied(name):
                self.free.append(name)
            else:
                self._drop(name)

    def close(self) -> None:
        for name in self.free:
            self._drop(name)
        self.engine.dispose()

    def _new(self) -> str:
        name = f"{POOLED}{uuid.uuid4().hex[:12]}"
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
            conn.exec_driver_sql(self.template.definition.replace(PLACEHOLDER, name))
            if self.shape is None:
                self.shape = tuple(conn.execute(SHAPE, {"schema": name}).one())
        return name

    def _emptied(self, name: str) -> bool:
        try:
            with self.engine.begin() as conn:
                # A connection a test left in a transaction must not hold the run up.
                conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                if tuple(conn.execute(SHAPE, {"schema": name}).one()) != self.shape:
                    return False
                # Foreign keys unchecked while every table is emptied, in any order.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql(";\n".join(f'DELETE FROM "{name}"."{table}"'
                                                for table in self.template.tables))
                conn.exec_driver_sql(self.template.rows.replace(PLACEHOLDER, name))
            return True
        except SQLAlchemyError:
            return False

    def _drop(self, name: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        except SQLAlchemyError:
            pass  # held by a connection a test left open: it goes with the next run's sweep


def migrated_postgres_template(server_url: str) -> PostgresTemplate:
    """Migrate a scratch schema, record its definition with pg_dump, drop it."""
    schema = f"t_template_{uuid.uuid4().hex[:8]}"
    engine = create_engine(server_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            migrate(Settings(database_url=schema_url(server_url, schema)))
            dump = subprocess.run(
                ["pg_dump", *_pg_dump_connection(server_url), "--schema", schema,
                 "--no-owner", "--no-privileges", "--inserts"],
                capture_output=True, text=True, check=True, timeout=60,
                env={**os.environ, "PGPASSWORD": make_url(server_url).password or ""},
            ).stdout
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()
    return PostgresTemplate(server_url, _replayable(dump, schema))


def _replayable(dump: str, schema: str) -> str:
    """pg_dump's script without psql meta-commands, session settings (they would outlive the
    statement on a pooled connection) or the CREATE SCHEMA (the test's schema exists)."""
    kept = []
    for line in dump.splitlines():
        if line.startswith(("\\", "SET ", "SELECT pg_catalog.set_config", "CREATE SCHEMA ")):
            continue
        kept.append(line)
    definition = "\n".join(kept)
    assert f"{schema}.alembic_version" in definition, "pg_dump recorded no migrated schema"
    return definition.replace(schema, PLACEHOLDER)


def _pg_dump_connection(server_url: str) -> list[str]:
    url = make_url(server_url)
    return ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database or "postgres"]
