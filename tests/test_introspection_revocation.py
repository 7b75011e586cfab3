"""RFC 7662 introspection and RFC 7009 revocation, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws

from authserver import create_app
from authserver.config import Settings

from .helpers import advance_clock, basic, make_client, make_user, password_grant, refresh


def introspect(client: FlaskClient, creds: tuple[str, str], token: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/oauth/introspect", data={"token": token, **extra}, headers=basic(*creds)
    )


def revoke(client: FlaskClient, creds: tuple[str, str], token: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/oauth/revoke", data={"token": token, **extra}, headers=basic(*creds))


def test_introspect_active_access_token(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    tokens = password_grant(client, password_client, scope="notes:read").json
    response = introspect(client, password_client, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["active"] is True
    assert body["sub"] == user
    assert body["client_id"] == password_client[0]
    assert body["scope"] == "notes:read"
    assert body["username"] == "alice"
    assert body["token_type"] == "Bearer"


def test_introspect_active_refresh_token(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    tokens = password_grant(client, password_client, scope="notes:read").json
    body = introspect(
        client, password_client, tokens["refresh_token"], token_type_hint="refresh_token"
    ).json
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["sub"] == user
    assert body["scope"] == "notes:read"


def test_introspect_rotated_refresh_token_is_inactive(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    first = password_grant(client, password_client).json["refresh_token"]
    second = refresh(client, password_client, first).json["refresh_token"]
    assert introspect(client, password_client, first).json == {"active": False}
    assert introspect(client, password_client, second).json["active"] is True


def test_introspect_unknown_and_garbage_tokens_are_inactive(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    for token in ("nope", "a.b.c", "x" * 3000):
        response = introspect(client, password_client, token)
        assert response.status_code == 200
        assert response.json == {"active": False}


def test_introspect_expired_access_token_is_inactive(
    settings: Settings,
) -> None:
    app = create_app(settings.override(access_token_ttl=1))
    test_client = app.test_client()
    make_user(app)
    creds = make_client(app, grant_types=["password"])
    token = password_grant(test_client, creds).json["access_token"]
    advance_clock(app, 1)
    assert introspect(test_client, creds, token).json == {"active": False}
    app.extensions["authserver.db"].dispose()


def test_a_client_cannot_introspect_another_clients_tokens(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    other = make_client(app, grant_types=["password"])
    tokens = password_grant(client, password_client).json
    assert introspect(client, other, tokens["access_token"]).json == {"active": False}
    assert introspect(client, other, tokens["refresh_token"]).json == {"active": False}


def test_introspection_needs_client_authentication(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    tokens = password_grant(client, password_client).json
    response = client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_introspection_without_token_is_invalid_request(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    response = client.post("/oauth/introspect", data={}, headers=basic(*password_client))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


def test_revoking_a_refresh_token_revokes_its_family(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    first = password_grant(client, password_client).json["refresh_token"]
    second = refresh(client, password_client, first).json["refresh_token"]
    # Revoke an old (rotated) member: the live one dies with it.
    response = revoke(client, password_client, first, token_type_hint="refresh_token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    after = refresh(client, password_client, second)
    assert after.status_code == 400
    assert after.json["error"] == "invalid_grant"
    assert introspect(client, password_client, second).json == {"active": False}


def test_revoking_an_unknown_token_succeeds_quietly(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    # RFC 7009 §2.2: an invalid token does not cause an error.
    response = revoke(client, password_client, "never-issued")
    assert response.status_code == 200


def test_access_tokens_cannot_be_revoked_and_say_so(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    tokens = password_grant(client, password_client).json
    response = revoke(client, password_client, tokens["access_token"])
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_token_type"
    assert "cannot be revoked" in response.json["error_description"]


def test_a_client_cannot_revoke_another_clients_refresh_token(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    other = make_client(app, grant_types=["password"])
    tokens = password_grant(client, password_client).json
    response = revoke(client, other, tokens["refresh_token"])
    assert response.status_code == 400
    assert refresh(client, password_client, tokens["refresh_token"]).status_code == 200


def test_revocation_needs_client_authentication(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    tokens = password_grant(client, password_client).json
    response = client.post("/oauth/revoke", data={"token": tokens["refresh_token"]},
                           headers=basic(password_client[0], "wrong"))
    assert response.status_code == 401
    assert refresh(client, password_client, tokens["refresh_token"]).status_code == 200


def test_bad_token_type_hint_is_unsupported_token_type(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    response = revoke(client, password_client, "x", token_type_hint="id_token")
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_token_type"
    assert "token_type_hint" in response.json["error_description"]


def _server_signed(app: Flask, header: dict[str, str], creds: tuple[str, str]) -> str:
    """A JWT with every access-token claim, signed by the server's own key, but `header` as
    its header: what only a token of the wrong kind looks like."""
    keystore = app.extensions["authserver.keystore"]
    settings = app.extensions["authserver.settings"]
    now = int(time.time())
    claims = {"iss": settings.issuer, "sub": creds[0], "aud": settings.api_audience,
              "client_id": creds[0], "scope": "profile", "iat": now, "exp": now + 300,
              "jti": "not-an-access-token"}
    return jws.serialize_compact({**header, "kid": keystore.signing_key().kid},
                                 json.dumps(claims).encode(), keystore.signing_key())


@pytest.mark.parametrize("header", [{"alg": "RS256"}, {"alg": "RS256", "typ": "JWT"}])
def test_introspection_judges_a_token_like_the_apis_do(
    app: Flask, client: FlaskClient, header: dict[str, str]
) -> None:
    creds = make_client(app, scope="profile")
    token = _server_signed(app, header, creds)
    api = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401  # not typ at+jwt: not an access token (RFC 9068 §4)
    answer = introspect(client, creds, token)
    assert answer.status_code == 200
    assert answer.json == {"active": False}
