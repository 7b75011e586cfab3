"""The sample resource APIs and userinfo, with tokens from the real token endpoint, on SQLite and
PostgreSQL: scope enforcement on each API, notes per subject, input validation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .helpers import basic, make_client, make_user, password_grant


def client_token(client: FlaskClient, creds: tuple[str, str], scope: str) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": scope},
        headers=basic(*creds),
    )
    assert response.status_code == 200, response.json
    return str(response.json["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def user_token(client: FlaskClient, password_client: tuple[str, str], user: str) -> str:
    scope = "openid profile email notes:read notes:write"
    return str(password_grant(client, password_client, scope=scope).json["access_token"])


def test_me_for_a_user(client: FlaskClient, user_token: str, user: str) -> None:
    response = client.get("/api/me", headers=bearer(user_token))
    assert response.status_code == 200
    assert response.json["sub"] == user
    assert response.json["username"] == "alice"
    assert response.json["email"] == "alice@example.com"


def test_me_for_a_client(client: FlaskClient, cc_client: tuple[str, str]) -> None:
    token = client_token(client, cc_client, "profile")
    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json["sub"] == cc_client[0]
    assert "username" not in response.json


@pytest.mark.parametrize(
    ("method", "path", "needed", "granted"),
    [
        ("GET", "/api/me", "profile", "notes:read"),
        ("GET", "/api/notes", "notes:read", "notes:write"),
        ("POST", "/api/notes", "notes:write", "notes:read"),
    ],
)
def test_each_api_enforces_its_scope(
    client: FlaskClient, cc_client: tuple[str, str], method: str, path: str, needed: str,
    granted: str,
) -> None:
    token = client_token(client, cc_client, granted)
    response = client.open(path, method=method, headers=bearer(token), json={"text": "x"})
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{needed}"' in challenge
    assert response.json["error"] == "insufficient_scope"
    allowed = client.open(path, method=method, headers=bearer(client_token(client, cc_client, needed)),
                          json={"text": "x"})
    assert allowed.status_code in (200, 201)


def test_notes_are_stored_per_subject(app: Flask, client: FlaskClient, user_token: str) -> None:
    created = client.post("/api/notes", headers=bearer(user_token), json={"text": "buy milk"})
    assert created.status_code == 201
    assert created.json["text"] == "buy milk" and created.json["id"]
    mine = client.get("/api/notes", headers=bearer(user_token)).json["notes"]
    assert [n["text"] for n in mine] == ["buy milk"]
    make_user(app, "bob")
    other_creds = make_client(app, grant_types=["password"])
    bob = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "bob", "password": "correct horse battery",
              "scope": "notes:read"},
        headers=basic(*other_creds),
    ).json["access_token"]
    assert client.get("/api/notes", headers=bearer(bob)).json["notes"] == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"data": "text=hi", "content_type": "application/x-www-form-urlencoded"}, "JSON"),
        ({"data": "{not json", "content_type": "application/json"}, "JSON object"),
        ({"json": ["a list"]}, "JSON object"),
        ({"json": {}}, '"text" is required'),
        ({"json": {"text": 5}}, "must be a string"),
        ({"json": {"text": ""}}, "1 to 2000"),
        ({"json": {"text": "x" * 2001}}, "1 to 2000"),
        ({"json": {"text": "ok", "owner": "someone-else"}}, "unknown field"),
        ({"json": {"text": "a\x00b"}}, "NUL"),
    ],
    ids=["form", "broken-json", "array", "missing-text", "number", "empty", "too-long", "extra",
         "nul-character"],
)
def test_bad_note_bodies_get_clear_400s(
    client: FlaskClient, user_token: str, kwargs: dict[str, Any], fragment: str
) -> None:
    response = client.post("/api/notes", headers=bearer(user_token), **kwargs)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert fragment in response.json["error_description"]
    assert client.get("/api/notes", headers=bearer(user_token)).json["notes"] == []


def test_a_2000_character_note_is_accepted(client: FlaskClient, user_token: str) -> None:
    response = client.post("/api/notes", headers=bearer(user_token), json={"text": "é" * 2000})
    assert response.status_code == 201


def test_userinfo_returns_claims_by_scope(client: FlaskClient, user_token: str, user: str) -> None:
    response = client.get("/oauth/userinfo", headers=bearer(user_token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "sub": user, "preferred_username": "alice", "name": "Alice",
        "email": "alice@example.com", "email_verified": False,
    }


def test_userinfo_without_email_scope_has_no_email(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    token = password_grant(client, password_client, scope="openid").json["access_token"]
    assert client.post("/oauth/userinfo", headers=bearer(token)).json == {"sub": user}


def test_userinfo_needs_openid_scope(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    token = password_grant(client, password_client, scope="profile").json["access_token"]
    response = client.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 403
    assert 'scope="openid"' in response.headers["WWW-Authenticate"]


def test_userinfo_for_a_deleted_user_is_invalid_token(
    app: Flask, client: FlaskClient, user_token: str
) -> None:
    from authserver.store.users import delete_user, find_user

    with app.extensions["authserver.db"].session() as session:
        delete_user(session, find_user(session, "alice"))  # type: ignore[arg-type]
    response = client.get("/oauth/userinfo", headers=bearer(user_token))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"
