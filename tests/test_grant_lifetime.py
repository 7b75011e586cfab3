"""A grant without refresh tokens lives as long as its access token, to the second, even when
the clock turns over a second between starting the grant and signing the token (the grant's
expiry and the token's `exp` come from one reading of the app's clock)."""

from __future__ import annotations

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.models import RefreshTokenFamily

from .helpers import PASSWORD, advance_clock, basic, make_client, make_user


def test_the_grant_ends_no_sooner_than_its_access_token(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    client_id, secret = make_client(app, grant_types=["password"], scope="notes:read")
    # The app's clock a second behind the wall clock: as if a second turned over between
    # the grant's start and the token's signature.
    advance_clock(app, -1)
    answer = client.post("/oauth/token", headers=basic(client_id, secret), data={
        "grant_type": "password", "username": "alice", "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    assert "refresh_token" not in answer.json
    claims = jwt.decode(answer.json["access_token"], options={"verify_signature": False})
    with app.extensions["authserver.db"].session() as session:
        grant_expires_at = session.scalar(select(RefreshTokenFamily.expires_at).where(
            RefreshTokenFamily.id == claims["grant_id"]))
    assert grant_expires_at is not None and grant_expires_at >= claims["exp"]
    assert claims["exp"] - claims["iat"] == answer.json["expires_in"]
