"""`migrate` (serve's start and every CLI command) on SQLite and PostgreSQL: a database at the
newest revision runs no Alembic upgrade, one revision behind is upgraded, an empty one gets
the whole schema; each says which in `describe()`."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from authserver import db
from authserver.config import Settings
from authserver.models import Base
from authserver.store import Store


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


def test_codes_stored_before_0024_keep_their_nonce_checked(database_url: str) -> None:
    """0024 looks nonces up by their hash: the codes already stored get theirs, so a nonce
    used before the upgrade is still refused after it."""
    settings = Settings(issuer="http://authserver.test", allow_insecure_issuer=True,
                        database_url=database_url).with_defaults()
    command.upgrade(db.alembic_config(database_url), "0023")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            user_id = connection.execute(text(
                "INSERT INTO users (sub, username, email_verified, verify_before_sign_in, "
                "password_hash, claims, created_at) VALUES ('s-1', 'ann', false, false, 'x', "
                "'{}', 0) RETURNING id")).scalar_one()
            connection.execute(text(
                "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, "
                "scope, nonce, auth_time, created_at, expires_at) VALUES "
                "('c-1', 'app', :user, 'https://app/cb', 'openid', :nonce, 0, 0, 60)"),
                {"user": user_id, "nonce": "n" * 3000})
        db.migrate(settings)
        database = db.Database(settings)
        try:
            store = Store(database)
            assert store.codes.nonce_seen("app", "n" * 3000)
            assert not store.codes.nonce_seen("app", "n" * 2999)
            assert not store.codes.nonce_seen("other-app", "n" * 3000)
            store.close()
        finally:
            database.dispose()
    finally:
        engine.dispose()
