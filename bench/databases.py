"""The benchmarks' databases: a SQLite file in a temporary directory, or a PostgreSQL schema of
the run's own in database `test` on 127.0.0.1 (the tests' server), dropped after it."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def schema_url(schema: str) -> str:
    """The URL of `schema` in POSTGRES: every connection's search_path is that schema."""
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def postgres_pid() -> int:
    """The PostgreSQL server's postmaster (the parent of every backend), to meter its CPU: the
    parent of the backend that answers here (the server is local)."""
    engine = create_engine(POSTGRES)
    with engine.connect() as conn:  # read while the backend lives: it exits with the connection
        stat = Path(f"/proc/{conn.scalar(text('SELECT pg_backend_pid()'))}/stat").read_text()
    engine.dispose()
    return int(stat.rsplit(")", 1)[1].split()[1])


@contextmanager
def postgres_schema(prefix: str = "bench") -> Iterator[str]:
    """A new schema's URL; the schema and everything in it are dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database(kind: str) -> Iterator[str]:
    """`kind` "sqlite" (a new file) or "postgresql" (a new schema)."""
    if kind == "sqlite":
        yield f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
        return
    with postgres_schema() as url:
        yield url
