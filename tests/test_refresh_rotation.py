"""Refresh tokens at the token endpoint, on SQLite and PostgreSQL: rotation, narrowing but
never widening the scope, reuse of a rotated token revoking its family (with the grace window
for the previous one only), binding to the client, and storage as hashes only."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .helpers import (
    advance_clock,
    basic,
    make_client,
    make_user,
    password_grant,
    pkce,
    refresh,
    verify,
)


def test_refresh_rotates_the_token(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    first = password_grant(client, password_client, scope="openid notes:read").json
    second = refresh(client, password_client, first["refresh_token"])
    assert second.status_code == 200, second.json
    body = second.json
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == "openid notes:read"
    settings = app.extensions["authserver.settings"]
    assert verify(app, body["access_token"], settings.api_audience)["sub"] == user
    first_id = verify(app, first["id_token"], password_client[0])
    refreshed_id = verify(app, body["id_token"], password_client[0])
    assert refreshed_id["auth_time"] == first_id["auth_time"]
    third = refresh(client, password_client, body["refresh_token"])
    assert third.status_code == 200, third.json


def test_a_refresh_keeps_what_its_grant_recorded_of_the_sign_in(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    """The refreshed ID token keeps the sign-in's auth_time, amr, acr and sid, and the access
    token its grant's API: read from the family the claim moved on, not from the request."""
    from .test_code_flow import ISSUER, exchange, get_code

    verifier, challenge = pkce()
    signed_in = exchange(client, public_client,
                         get_code(client, public_client, challenge)["code"], verifier).json
    advance_clock(app, 120)  # a refresh that took "now" for the sign-in's time would show it
    refreshed = client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"],
        "client_id": public_client})
    assert refreshed.status_code == 200, refreshed.json
    first = verify(app, signed_in["id_token"], public_client)
    again = verify(app, refreshed.json["id_token"], public_client)
    for claim in ("sub", "auth_time", "amr", "acr", "sid"):
        assert again[claim] == first[claim], claim
    access = verify(app, refreshed.json["access_token"], f"{ISSUER}/api")
    assert access["sub"] == user and access["client_id"] == public_client
    assert access["grant_id"] == verify(app, signed_in["access_token"], f"{ISSUER}/api")["grant_id"]


def test_refresh_can_narrow_but_not_widen_scope(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    first = password_grant(client, password_client, scope="notes:read notes:write").json
    widened = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
              "scope": "notes:read profile"},
        headers=basic(*password_client),
    )
    assert widened.status_code == 400
    assert widened.json["error"] == "invalid_scope"
    narrowed = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
              "scope": "notes:read"},
        headers=basic(*password_client),
    )
    assert narrowed.status_code == 200, narrowed.json
    assert narrowed.json["scope"] == "notes:read"


def test_reusing_a_rotated_refresh_token_revokes_the_family(
    client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    first = password_grant(client, password_client).json
    second = refresh(client, password_client, first["refresh_token"]).json
    reuse = refresh(client, password_client, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json["error"] == "invalid_grant"
    assert "already used" in reuse.json["error_description"]
    # The legitimate holder's newer token is dead too: the whole family is revoked.
    after = refresh(client, password_client, second["refresh_token"])
    assert after.status_code == 400
    assert after.json["error"] == "invalid_grant"
    assert "revoked" in after.json["error_description"]


def test_refresh_token_is_bound_to_its_client(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    other = make_client(app, grant_types=["password", "refresh_token"])
    first = password_grant(client, password_client).json
    stolen = refresh(client, other, first["refresh_token"])
    assert stolen.status_code == 400
    assert stolen.json["error"] == "invalid_grant"
    # The rightful client can still use it: presenting it elsewhere consumed nothing.
    assert refresh(client, password_client, first["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_invalid_grant(
    client: FlaskClient, password_client: tuple[str, str]
) -> None:
    response = refresh(client, password_client, "not-a-token")
    assert response.status_code == 400
    assert response.json["error"] == "invalid_grant"


def test_refresh_tokens_are_stored_only_as_hashes(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    from sqlalchemy import select

    from authserver.models import RefreshToken

    raw = password_grant(client, password_client).json["refresh_token"]
    with app.extensions["authserver.db"].session() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert stored == [hashlib.sha256(raw.encode()).hexdigest()]


def test_refresh_grace_window_accepts_only_the_previous_token(settings: Any) -> None:
    from authserver import create_app

    app = create_app(settings.override(refresh_grace_seconds=30))
    client = app.test_client()
    make_user(app)
    creds = make_client(app, grant_types=["password", "refresh_token"])
    t0 = password_grant(client, creds).json["refresh_token"]
    assert refresh(client, creds, t0).status_code == 200  # gives t1
    # The response carrying t1 may have been lost: t0 is accepted once more, within the window.
    retry = refresh(client, creds, t0)
    assert retry.status_code == 200, retry.json
    t2 = retry.json["refresh_token"]
    assert refresh(client, creds, t2).status_code == 200
    # t0 is now two generations back: outside what the grace window forgives.
    late = refresh(client, creds, t0)
    assert late.status_code == 400
    assert late.json["error"] == "invalid_grant"
    app.extensions["authserver.db"].dispose()


def test_client_without_refresh_grant_gets_no_refresh_token(
    app: Flask, client: FlaskClient, user: str
) -> None:
    creds = make_client(app, grant_types=["password"])
    response = password_grant(client, creds)
    assert response.status_code == 200, response.json
    assert "refresh_token" not in response.json
