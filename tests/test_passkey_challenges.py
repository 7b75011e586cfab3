"""Passkey ceremonies' challenges in the store, on both databases: a browser's newer challenge
replaces its older one, and two requests of one browser at once (two tabs) both get one, the
later winning, where a delete-then-insert made the second fail on PostgreSQL's unique key."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from authserver import create_app
from authserver.config import Settings
from authserver.models import User

from .helpers import make_user


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings.override(issuer="http://localhost:5000"))
    yield application
    application.extensions["authserver.db"].dispose()


def test_a_newer_challenge_replaces_the_older(app: Flask) -> None:
    store = app.extensions["authserver.store"]
    sub = make_user(app)
    with app.app_context():
        alice = store.session().query(User).filter_by(sub=sub).one().id
        older = store.passkeys.new_challenge("b1", "sign-in")
        newer = store.passkeys.new_challenge("b1", "sign-in", alice)
        other = store.passkeys.new_challenge("b1", "register", alice)
        taken = store.passkeys.take_challenge("b1", "sign-in")
        assert taken is not None and taken.value == newer != older and taken.user_id == alice
        assert store.passkeys.take_challenge("b1", "sign-in") is None
        assert store.passkeys.take_challenge("b1", "register").value == other


def test_two_requests_of_one_browser_at_once_both_get_a_challenge(
        app: Flask, settings: Settings) -> None:
    """Another transaction has inserted this browser's challenge and not committed yet: the
    request waits for it, then replaces it (on SQLite the writers queue anyway)."""
    store = app.extensions["authserver.store"]
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite serializes the writers: no two insert at once")
    failures: list[BaseException] = []
    won: list[bytes] = []
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        connection.execute(text(
            "INSERT INTO passkey_challenges (browser, purpose, challenge, expires_at) "
            "VALUES ('b1', 'sign-in', 'aa', 9999999999)"))

        def second() -> None:
            with app.app_context():
                try:
                    won.append(store.passkeys.new_challenge("b1", "sign-in"))
                except BaseException as exc:  # what the request would answer 500 with
                    failures.append(exc)
                    store.rollback()

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1)
        assert thread.is_alive()  # it waits on the uncommitted row's key
        connection.commit()
        thread.join(10)
    engine.dispose()
    assert not failures, repr(failures[0])
    with app.app_context():
        taken = store.passkeys.take_challenge("b1", "sign-in")
    assert taken is not None and taken.value == won[0]
