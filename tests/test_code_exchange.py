"""PKCE and the authorization code at the token endpoint (RFC 7636, RFC 6749 §4.1.3): S256
required of public clients, the verifier checked, a code used once (a replay revokes what
it gave), for its own client and redirect URI, and not after it expired."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .helpers import (
    REDIRECT,
    advance_clock,
    make_client,
    make_user,
    pkce,
)
from .test_code_flow import (
    authorize_url,
    confidential_client,  # noqa: F401 (a fixture)
    consent,
    exchange,
    get_code,
    location_params,
    login,
)


def test_public_client_without_pkce_is_refused(client: FlaskClient, public_client: str) -> None:
    params = location_params(client.get(authorize_url(public_client, None)))
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


def test_plain_code_challenge_is_refused(client: FlaskClient, public_client: str) -> None:
    url = authorize_url(public_client, None, code_challenge="a" * 43, code_challenge_method="plain")
    params = location_params(client.get(url))
    assert params["error"] == "invalid_request" and "S256" in params["error_description"]
    omitted = authorize_url(public_client, None, code_challenge="a" * 43)
    assert location_params(client.get(omitted))["error"] == "invalid_request"


def test_wrong_or_missing_code_verifier_is_refused(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    code = get_code(client, public_client, challenge)["code"]
    wrong = exchange(client, public_client, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json["error"] == "invalid_grant"
    missing = exchange(client, public_client, code, None)
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"


def test_code_replay_is_refused_and_revokes_the_tokens(
    client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    code = get_code(client, public_client, challenge)["code"]
    first = exchange(client, public_client, code, verifier)
    assert first.status_code == 200
    replay = exchange(client, public_client, code, verifier)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    assert "already used" in replay.json["error_description"]
    refreshed = client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first.json["refresh_token"],
        "client_id": public_client})
    assert refreshed.status_code == 400 and "revoked" in refreshed.json["error_description"]


def test_code_is_single_use_even_when_no_refresh_token_is_issued(
    client: FlaskClient, confidential_client: tuple[str, str], user: str  # noqa: F811
) -> None:
    # Regression: the code's claim was committed only along with a refresh token.
    code = get_code(client, confidential_client[0], None)["code"]
    first = exchange(client, confidential_client[0], code, None, confidential_client[1])
    assert first.status_code == 200 and "refresh_token" not in first.json
    again = exchange(client, confidential_client[0], code, None, confidential_client[1])
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_code_from_another_client_is_refused(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    other, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                           auth_method="none")
    verifier, challenge = pkce()
    code = get_code(client, public_client, challenge)["code"]
    stolen = exchange(client, other, code, verifier)
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"


def test_expired_code_is_refused(settings: Any, user: str) -> None:
    from authserver import create_app


    app = create_app(settings.override(authorization_code_ttl=1))
    browser = app.test_client()
    make_user(app, "erin")
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none")
    verifier, challenge = pkce()
    url = authorize_url(client_id, challenge)
    page = login(browser, url, username="erin")
    code = location_params(consent(browser, url, page))["code"]
    advance_clock(app, 1)
    response = exchange(browser, client_id, code, verifier)
    assert response.status_code == 400 and "expired" in response.json["error_description"]
    app.extensions["authserver.db"].dispose()


def test_redirect_uri_must_match_at_the_token_endpoint(
    client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    code = get_code(client, public_client, challenge)["code"]
    response = exchange(client, public_client, code, verifier, redirect_uri="https://app.example.com/other")
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
