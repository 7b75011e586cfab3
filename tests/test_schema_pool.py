"""The PostgreSQL schemas the tests with an app are given again (tests/templates.py,
PostgresSchemaPool): a schema comes back as the migrations left it (no rows of the last test,
the sequences from the start, the Alembic version in place), and one whose tables a test
changed is not given again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from authserver import db

from .templates import PostgresSchemaPool


@pytest.fixture
def pool(postgres_ready: bool, postgres_schemas: PostgresSchemaPool) -> PostgresSchemaPool:
    return postgres_schemas


def scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_a_schema_comes_back_as_the_migrations_left_it(pool: PostgresSchemaPool) -> None:
    with pool.schema() as url:
        first_id = scalar(url, "INSERT INTO notes (owner_sub, text, created_at) "
                               "VALUES ('alice', 'a note', 0) RETURNING id")
        version = scalar(url, "SELECT version_num FROM alembic_version")
        name = url.rsplit("%3D", 1)[1]
    assert version == db.head_revision()
    assert pool.free[-1] == name
    with pool.schema() as again:
        assert again == url  # the same schema, given again
        assert scalar(again, "SELECT count(*) FROM notes") == 0
        assert scalar(again, "SELECT version_num FROM alembic_version") == version
        assert scalar(again, "INSERT INTO notes (owner_sub, text, created_at) "
                             "VALUES ('bob', 'a note', 0) RETURNING id") == first_id


def test_a_schema_migrated_down_is_not_given_again(pool: PostgresSchemaPool) -> None:
    with pool.schema() as url:
        name = url.rsplit("%3D", 1)[1]
        head = db.head_revision()
        previous = db._migration_scripts().get_revision(head).down_revision
        command.downgrade(db.alembic_config(url), previous)
    assert name not in pool.free
    assert scalar(pool.template.server_url,
                  f"SELECT count(*) FROM pg_namespace WHERE nspname = '{name}'") == 0
