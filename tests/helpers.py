"""Helpers for tests that use Flask's test client: clients, users, token requests, and PyJWT
verification against the JWKS the app publishes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient

from authserver.store.clients import register_client
from authserver.store.users import create_user

PASSWORD = "correct horse battery"
# The redirect URI of the code-flow test clients.
REDIRECT = "https://app.example.com/callback"


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def csrf(html: str) -> str:
    """The CSRF token of one of our pages' forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def action(html: str) -> str:
    """Where one of our pages' forms posts (the interaction step of an authorization)."""
    match = re.search(r'<form method="post" action="([^"]*)"', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def make_client(app: Flask, **kwargs: Any) -> tuple[str, str]:
    with app.extensions["authserver.db"].session() as session:
        registered = register_client(session, name="test client", **kwargs)
        return registered.client.client_id, registered.client_secret or ""


def make_user(app: Flask, username: str = "alice", **kwargs: Any) -> str:
    with app.extensions["authserver.db"].session() as session:
        created = create_user(session, username=username, password=PASSWORD, **kwargs)
        return created.sub


def verify(app: Flask, token: str, audience: str) -> dict[str, Any]:
    """Check a signature with PyJWT against the public JWKS the server publishes."""
    header = jwt.get_unverified_header(token)
    jwks = app.extensions["authserver.keystore"].jwks()
    public = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return jwt.decode(
        token,
        jwt.PyJWK(public).key,
        algorithms=[public["alg"]],  # the published key's own (RFC 8725 §3.1)
        audience=audience,
        issuer=app.extensions["authserver.settings"].issuer,
    )


def password_grant(client: FlaskClient, creds: tuple[str, str], **extra: str) -> Any:
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra}
    return client.post("/oauth/token", data=form, headers=basic(*creds))


def refresh(client: FlaskClient, creds: tuple[str, str], refresh_token: str) -> Any:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/oauth/token", data=form, headers=basic(*creds))


def advance_clock(app: Flask, seconds: float) -> None:
    """Move the app's clock (the store's, which the grants, codes, sessions, introspection and
    the APIs' validator read) forward, instead of sleeping."""
    store = app.extensions["authserver.store"]
    current = store.clock
    store.clock = lambda: current() + seconds
