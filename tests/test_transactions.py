"""Where the request's unit of work starts writing and when it commits: no write lock during a
password check, a password rehash that is never lost, refresh families that cannot outlive
their maximum age, a failed ID token that loses nothing, and the one-statement refresh on
PostgreSQL. What a sign-in records under races: test_sign_in_records.py."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from authserver import create_app, hashing
from authserver.config import Settings
from authserver.hashing import password_needs_rehash
from authserver.models import RefreshTokenFamily, User
from authserver.store import users as store_users

from .helpers import PASSWORD, action, csrf, make_client, make_user, password_grant, refresh
from .test_code_flow import authorize_url

WEAK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def production_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parameters a deployment hashes with (the suite hashes cheaply, conftest.py): for the
    tests of what a weak or former hash is replaced with."""
    monkeypatch.setattr(hashing, "_password_hasher", hashing.production_hasher)


def _sqlite_path(app: Flask) -> str:
    url = app.extensions["authserver.db"].engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("the write lock is SQLite's")
    return str(url.database)


def _record_whether_the_database_is_writable(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """During each password check, try to take SQLite's write lock from another connection."""
    path, seen = _sqlite_path(app), []
    real = store_users.password_matches

    def checking(password: str, stored: str | None) -> bool:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append(True)
        except sqlite3.OperationalError:  # "database is locked"
            seen.append(False)
        finally:
            other.close()
        return real(password, stored)

    monkeypatch.setattr(store_users, "password_matches", checking)
    return seen


def test_the_password_grant_checks_the_password_without_holding_the_write_lock(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writable = _record_whether_the_database_is_writable(app, monkeypatch)
    assert password_grant(client, password_client).status_code == 200
    assert writable == [True]


def test_the_login_form_checks_the_password_without_holding_the_write_lock(
    app: Flask, client: FlaskClient, public_client: str, user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writable = _record_whether_the_database_is_writable(app, monkeypatch)
    url = authorize_url(public_client, "x" * 43)
    html = client.get(url).get_data(as_text=True)
    answer = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                             "csrf_token": csrf(html)})
    assert 'name="decision"' in answer.get_data(as_text=True)
    assert writable == [True]


def _weaken_hash(app: Flask) -> str:
    weak = WEAK.hash(PASSWORD)
    with app.extensions["authserver.db"].session() as session:
        session.execute(update(User).where(User.username == "alice").values(password_hash=weak))
    return weak


def _stored_hash(app: Flask) -> str:
    with app.extensions["authserver.db"].session() as session:
        return str(session.scalar(select(User.password_hash).where(User.username == "alice")))


def test_a_weak_hash_is_replaced_even_when_no_refresh_token_is_issued(
    app: Flask, client: FlaskClient, user: str, production_hashing: None
) -> None:
    creds = make_client(app, grant_types=["password"])  # no refresh_token grant: nothing stored
    weak = _weaken_hash(app)
    response = password_grant(client, creds)
    assert response.status_code == 200 and "refresh_token" not in response.json
    stored = _stored_hash(app)
    assert stored != weak and not password_needs_rehash(stored)


def test_a_hash_with_the_former_parameters_verifies_and_is_rehashed(
    app: Flask, client: FlaskClient, user: str, production_hashing: None
) -> None:
    """argon2-cffi's default (t=3, m=64 MiB, p=4), this server's before OWASP's m=46 MiB,
    t=1, p=1: the password still works, and the hash is made again with the new parameters."""
    former = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    with app.extensions["authserver.db"].session() as session:
        session.execute(update(User).where(User.username == "alice")
                        .values(password_hash=former))
        session.commit()
    response = password_grant(client, make_client(app, grant_types=["password"]))
    assert response.status_code == 200, response.json
    stored = _stored_hash(app)
    assert stored != former and not password_needs_rehash(stored)
    assert stored.startswith("$argon2id$v=19$m=47104,t=1,p=1$")


def test_the_login_form_replaces_a_weak_hash(
    app: Flask, client: FlaskClient, public_client: str, user: str, production_hashing: None
) -> None:
    weak = _weaken_hash(app)
    url = authorize_url(public_client, "x" * 43)
    html = client.get(url).get_data(as_text=True)
    client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                    "csrf_token": csrf(html)})
    assert _stored_hash(app) != weak


def test_a_refresh_family_is_not_renewed_past_its_maximum_age(
    settings: Settings, password_client: Any
) -> None:
    app = create_app(settings.override(refresh_family_max_age=3600))
    test_client = app.test_client()
    make_user(app)
    creds = make_client(app, grant_types=["password", "refresh_token"])
    first = password_grant(test_client, creds).json
    with app.extensions["authserver.db"].session() as session:
        family = session.scalars(select(RefreshTokenFamily)).one()
        assert family.expires_at == family.created_at + 3600  # not created + 14 days
        # Make the grant 59 minutes old.
        session.execute(update(RefreshTokenFamily).values(created_at=family.created_at - 3540))
    rotated = refresh(test_client, creds, first["refresh_token"])
    assert rotated.status_code == 200
    with app.extensions["authserver.db"].session() as session:
        family = session.scalars(select(RefreshTokenFamily)).one()
        assert family.expires_at == family.created_at + 3600
        session.execute(update(RefreshTokenFamily).values(created_at=family.created_at - 61))
    expired = refresh(test_client, creds, rotated.json["refresh_token"])
    assert expired.status_code == 400
    assert expired.json["error"] == "invalid_grant"


def test_an_id_token_that_fails_to_sign_loses_no_refresh_token(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = password_grant(client, password_client).json
    from authserver.oauth.openid import IDTokenIssuer

    def broken(*_args: Any) -> Any:
        raise RuntimeError("the signing key is unreadable")

    monkeypatch.setattr(IDTokenIssuer, "resolve_client_private_key", broken)
    failed = refresh(client, password_client, first["refresh_token"])
    assert failed.status_code == 500
    monkeypatch.undo()
    # The old refresh token was not consumed: it still works, and its family is not revoked.
    again = refresh(client, password_client, first["refresh_token"])
    assert again.status_code == 200, again.json


def test_a_refresh_on_postgresql_is_one_statement(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual refresh's round trips on PostgreSQL: one statement (a WITH: the UPDATE that
    finds, checks and claims the token, the INSERT of its successor from that claim), one
    transaction, and no ping of a connection that was just used. (The clients version is read
    apart, on its own connection.) Its refusals keep their own path: test_token_endpoint and
    test_races."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's RETURNING cannot name the joined tables; it takes two steps")
    from sqlalchemy import event

    app = create_app(settings)
    test_client = app.test_client()
    make_user(app)
    # Without the groups scope: its token asks one more query, for the user's groups.
    creds = make_client(app, grant_types=["password", "refresh_token"],
                        scope="openid profile email notes:read")
    first = password_grant(test_client, creds).json  # the client is cached from here on
    engine = app.extensions["authserver.db"].engine
    statements: list[str] = []
    transactions: list[str] = []
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda connection: pings.append(1) or real_ping(connection))
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    event.listen(engine, "begin", lambda _c: transactions.append("begin"))
    event.listen(engine, "commit", lambda _c: transactions.append("commit"))
    rotated = refresh(test_client, creds, first["refresh_token"])
    assert rotated.status_code == 200, rotated.json
    assert [s.split()[0] for s in statements] == ["WITH"], statements
    assert transactions == ["begin", "commit"]
    assert pings == []
    # The claim is real: the presented token is spent (and its family revoked for the reuse);
    # the successor the statement stored is the one the response carried.
    rotated_again = refresh(test_client, creds, rotated.json["refresh_token"])
    assert rotated_again.status_code == 200, rotated_again.json
    assert refresh(test_client, creds, first["refresh_token"]).json["error"] == "invalid_grant"
    assert refresh(test_client, creds, rotated_again.json["refresh_token"]).json[
        "error"] == "invalid_grant"
    app.extensions["authserver.db"].dispose()


def test_a_refused_refresh_on_postgresql_stores_no_successor(settings: Settings) -> None:
    """The one-statement refresh writes its successor only from a claim: another client's,
    an unknown or a spent token adds no refresh token row."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite takes the two-step path")
    from sqlalchemy import func, select

    from authserver.models import RefreshToken

    app = create_app(settings)
    test_client = app.test_client()
    make_user(app)
    creds = make_client(app, grant_types=["password", "refresh_token"],
                        scope="openid profile email notes:read")
    other = make_client(app, grant_types=["password", "refresh_token"],
                        scope="openid profile email notes:read")
    first = password_grant(test_client, creds).json

    def rows() -> int:
        with app.extensions["authserver.db"].session() as session:
            return int(session.scalar(select(func.count()).select_from(RefreshToken)) or 0)

    before = rows()
    assert refresh(test_client, other, first["refresh_token"]).json["error"] == "invalid_grant"
    assert refresh(test_client, creds, "not-a-token").json["error"] == "invalid_grant"
    assert rows() == before
    assert refresh(test_client, creds, first["refresh_token"]).status_code == 200
    assert rows() == before + 1
    app.extensions["authserver.db"].dispose()
