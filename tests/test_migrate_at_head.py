"""`migrate` (serve's start and every CLI command) on SQLite and PostgreSQL: a database at the
newest revision runs no Alembic upgrade, one revision behind is upgraded, an empty one gets
the whole schema; each says which in `describe()`."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command

from authserver import db
from authserver.config import Settings


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
