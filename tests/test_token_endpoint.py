"""The token endpoint through Flask's test client, on SQLite and PostgreSQL: grants, tokens
and bad input. Refresh rotation and reuse detection: test_refresh_rotation.py."""

from __future__ import annotations

import base64
import hashlib

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from .helpers import PASSWORD, basic, make_client, password_grant, verify


def test_client_credentials_with_basic_auth_issues_rfc9068_access_token(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "notes:read"},
        headers=basic(*cc_client),
    )
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "notes:read"
    assert "refresh_token" not in body and "id_token" not in body
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    assert header["kid"] == app.extensions["authserver.keystore"].signing_key().kid
    settings = app.extensions["authserver.settings"]
    claims = verify(app, body["access_token"], settings.api_audience)
    assert claims["sub"] == cc_client[0]
    assert claims["client_id"] == cc_client[0]
    assert claims["scope"] == "notes:read"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


def test_client_credentials_with_post_auth(app: Flask, client: FlaskClient) -> None:
    client_id, secret = make_client(app, auth_method="client_secret_post", scope="notes:read")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.json
    assert response.json["scope"] == "notes:read"


def test_client_registered_for_basic_cannot_use_post(
    client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    client_id, secret = cc_client
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_wrong_secret_is_invalid_client_401_with_basic_challenge(
    client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(cc_client[0], "wrong"),
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_client_is_invalid_client(client: FlaskClient) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("nobody", "x")
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_scope_not_allowed_for_client_is_invalid_scope(app: Flask, client: FlaskClient) -> None:
    creds = make_client(app, scope="notes:read")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "notes:write"},
        headers=basic(*creds),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"
    assert "notes:write" in response.json["error_description"]


def test_unknown_scope_is_invalid_scope(client: FlaskClient, cc_client: tuple[str, str]) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers=basic(*cc_client),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_openid_scope_needs_a_user(app: Flask, client: FlaskClient) -> None:
    creds = make_client(app, scope="openid notes:read")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers=basic(*creds),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_client_credentials_default_scope_leaves_out_user_scopes(
    app: Flask, client: FlaskClient
) -> None:
    creds = make_client(app, scope="openid offline_access notes:read")
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(*creds)
    )
    assert response.status_code == 200, response.json
    assert response.json["scope"] == "notes:read"


def test_grant_type_not_registered_for_client_is_unauthorized_client(
    client: FlaskClient, cc_client: tuple[str, str], user: str
) -> None:
    response = password_grant(client, cc_client)
    assert response.status_code == 400
    assert response.json["error"] == "unauthorized_client"


def test_password_grant_issues_access_refresh_and_id_token(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    response = password_grant(client, password_client, scope="openid profile email notes:read")
    assert response.status_code == 200, response.json
    body = response.json
    settings = app.extensions["authserver.settings"]
    access = verify(app, body["access_token"], settings.api_audience)
    assert access["sub"] == user
    assert access["client_id"] == password_client[0]
    assert body["refresh_token"] and len(body["refresh_token"]) >= 40
    id_header = jwt.get_unverified_header(body["id_token"])
    assert id_header["kid"] == app.extensions["authserver.keystore"].signing_key().kid
    id_claims = verify(app, body["id_token"], password_client[0])
    assert id_claims["sub"] == user
    assert id_claims["aud"] == password_client[0]
    assert id_claims["email"] == "alice@example.com"
    assert id_claims["preferred_username"] == "alice"
    assert abs(id_claims["auth_time"] - id_claims["iat"]) <= 2
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    expected_at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert id_claims["at_hash"] == expected_at_hash


def test_password_grant_without_openid_has_no_id_token(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    response = password_grant(client, password_client, scope="notes:read")
    assert response.status_code == 200, response.json
    assert "id_token" not in response.json


def test_wrong_password_is_invalid_grant(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "alice", "password": "nope"},
        headers=basic(*password_client),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_unknown_user_is_invalid_grant(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "mallory", "password": PASSWORD},
        headers=basic(*password_client),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "unsupported_grant_type"),  # as for a JSON body: no form grant_type
        ({"grant_type": "magic"}, "unsupported_grant_type"),
        ({"grant_type": "password"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "password", "username": "a", "password": "b", "scope": "\x00"},
         "invalid_request"),
    ],
    ids=["no-grant-type", "unknown-grant", "password-missing-fields", "refresh-missing-token",
         "control-char-scope"],
)
def test_bad_token_requests_get_rfc6749_json_errors(
    client: FlaskClient, password_client: tuple[str, str], form: dict[str, str], error: str
) -> None:
    response = client.post("/oauth/token", data=form, headers=basic(*password_client))
    assert response.status_code == 400
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_json_body_is_not_a_token_request(
    client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    response = client.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, headers=basic(*cc_client)
    )
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_garbage_body_and_bad_basic_header_get_4xx_json(client: FlaskClient) -> None:
    response = client.post(
        "/oauth/token",
        data=b"\xff\xfe%%%==&&grant_type",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": "Basic !!!not-base64"},
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json


def test_oversized_body_is_413_json(client: FlaskClient) -> None:
    response = client.post("/oauth/token", data={"grant_type": "x" * 100_000})
    assert response.status_code == 413
    assert response.json["error"] == "invalid_request"


def test_get_on_token_endpoint_is_405_json(client: FlaskClient) -> None:
    response = client.get("/oauth/token")
    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"


def test_nul_characters_are_refused_on_every_backend(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    # Found by fuzzing: PostgreSQL text cannot hold NUL, and the query failed with a 500.
    in_form = password_grant(client, password_client, username="a\x00b")
    assert in_form.status_code == 400 and in_form.json["error"] == "invalid_request"
    in_basic = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic("a\x00b", "secret"))
    assert in_basic.status_code == 401 and in_basic.json["error"] == "invalid_client"
    in_query = client.get("/oauth/authorize", query_string={"client_id": "x\x00"})
    assert in_query.status_code == 400


def test_the_nul_check_reads_the_raw_bytes_of_every_form_encoding(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    """The check looks for %00 or a raw NUL in the query and an url-encoded body (no form is
    built for it), and reads a multipart body as a form. A name holds no NUL either; an
    escaped percent sign followed by 00 is no NUL."""
    auth = basic(*password_client)
    for body in (b"grant_type=password&user%00name=a&password=b",
                 b"grant_type=password&username=a%00&password=b",
                 b"grant_type=password&username=a\x00&password=b"):
        answer = client.post("/oauth/token", data=body, headers=auth,
                             content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 400, body
        assert answer.json["error_description"] == "NUL characters are not allowed"
    for fields in ({"grant_type": "password", "username": "a\x00", "password": "b"},
                   {"grant_type": "password", "username": "a", "password": ["b", "c\x00"]}):
        multipart = client.post("/oauth/token", headers=auth, data=fields,
                                content_type="multipart/form-data")
        assert multipart.json["error_description"] == "NUL characters are not allowed", fields
    escaped = client.post("/oauth/token", data=b"grant_type=password&username=a%2500&password=b",
                          headers=auth, content_type="application/x-www-form-urlencoded")
    assert escaped.json["error"] == "invalid_grant"  # an unknown user, not a NUL
