"""`migrate` (serve's start and every CLI command) on SQLite and PostgreSQL: a database at the
newest revision runs no Alembic upgrade, one revision behind is upgraded, an empty one gets
the whole schema; each says which in `describe()`."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from authserver import db
from authserver.config import Settings
from authserver.models import Base


@pytest.fixture
def upgrades(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The revisions Alembic was asked to upgrade to."""
    asked: list[str] = []
    real = command.upgrade

    def counting(config: Any, revision: str, **kwargs: Any) -> None:
        asked.append(revision)
        real(config, revision, **kwargs)

    monkeypatch.setattr(db.command, "upgrade", counting)
    return asked


def test_empty_behind_and_at_the_head(database_url: str, upgrades: list[str]) -> None:
    settings = Settings(database_url=database_url)
    head = db.head_revision()
    created = db.migrate(settings)
    assert (created.before, created.after, upgrades) == (None, head, ["head"])

    again = db.migrate(settings)
    assert again.describe() == f"the database schema is up to date (revision {head})"
    assert upgrades == ["head"]  # nothing run the second time

    previous = db._migration_scripts().get_revision(head).down_revision
    command.downgrade(db.alembic_config(database_url), previous)
    upgraded = db.migrate(settings)
    assert (upgraded.before, upgraded.after) == (previous, head)
    assert upgrades == ["head", "head"]
    assert db.schema_revision(database_url) == head


def test_the_migrations_make_the_schema_the_models_describe(database_url: str) -> None:
    """An index or column added to a model without its migration (or the other way round)
    would exist in the tests' databases or in deployments, not in both."""
    settings = Settings(issuer="http://authserver.test", allow_insecure_issuer=True,
                        database_url=database_url).with_defaults()
    db.migrate(settings)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
