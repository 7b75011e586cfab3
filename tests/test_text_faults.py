"""Outside text that Python turns into a server fault unless refused as bad input, on both
databases: a JSON `\\ud800` escape (half a surrogate pair, a str no UTF-8 encoder takes: not
psycopg's, SQLite's or argon2's), in a body or inside a JWT (a client assertion, a request
object), a page cursor beyond the database's integers, and a URL claim that urlsplit itself
refuses. Each is refused as bad input, with nothing written."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

from .admin_support import admin_client, admin_token, auth, problem  # noqa: F401
from .browser import Browser, RelyingParty, query
from .helpers import make_user, pkce
from .passkey_support import ISSUER, post_json, signed_in_browser, token_of
from .soft_authenticator import SoftAuthenticator
from .support import ServerProcess
from .test_request_objects import (  # noqa: F401 (fixtures)
    PASSWORD,
    Signer,
    _object,
    _outer,
    browser,
    rp,
    signer,
)

IN_PROCESS = True  # the request objects' server: the app in process (tests/inprocess.py)

# "\ud800" as JSON writes it: valid JSON (RFC 8259 §8.2 allows the escape), no character.
LONE = "\\ud800"


def send(client: FlaskClient, method: str, path: str, auth: dict[str, str], text: str) -> Any:
    return client.open(path, method=method, data=text,
                       headers={**auth, "Content-Type": "application/json"})


@pytest.mark.parametrize("method,path,text", [
    ("POST", "/admin/v1/users", '{"username": "eve", "password": "a long password' + LONE + '"}'),
    ("POST", "/admin/v1/users",
     '{"username": "eve", "password": "a long password", "email": "e' + LONE + '@example.com"}'),
    ("PATCH", "/admin/v1/users/alice", '{"email": "a' + LONE + '@example.com"}'),
    ("PUT", "/admin/v1/users/alice/password", '{"password": "a long password' + LONE + '"}'),
])
def test_a_lone_surrogate_in_a_json_body_is_bad_input(
        app: Flask, client: FlaskClient, auth: dict[str, str], method: str, path: str,
        text: str) -> None:
    make_user(app, "alice", email="alice@example.com")
    problem(send(client, method, path, auth, text), 400)
    shown = client.get("/admin/v1/users/alice", headers=auth).json
    assert shown["email"] == "alice@example.com"
    assert client.get("/admin/v1/users/eve", headers=auth).status_code == 404


def test_a_surrogate_pair_is_one_character_and_welcome(
        app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    created = send(client, "POST", "/admin/v1/users", auth,
                   '{"username": "eve", "password": "a long password \\ud83d\\udd11"}')
    assert created.status_code == 201, created.json


def test_a_passkey_named_with_a_lone_surrogate_is_refused(settings: Settings) -> None:
    app = create_app(settings.override(issuer=ISSUER))
    make_user(app, "alice", email="alice@example.com")
    account = signed_in_browser(app)
    token = token_of(account)
    options = post_json(account, "/account/passkeys/options", {}, token)
    created = SoftAuthenticator(ISSUER).create(options.json)
    answer = account.post("/account/passkeys", headers={
        "X-CSRF-Token": token, "Content-Type": "application/json"},
        data=json.dumps({"credential": created, "name": "Key \ud800"}))
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request", answer.json
    assert 'name="passkey"' not in account.get("/account").get_data(as_text=True)
    app.extensions["authserver.db"].dispose()


@pytest.mark.parametrize("collection", ["users", "clients", "apis", "idps"])
def test_a_cursor_beyond_the_databases_integers_is_bad_input(
        client: FlaskClient, auth: dict[str, str], collection: str) -> None:
    # "k" and 19 nines: the shape of a cursor this server gives, its key past 2**63.
    cursor = base64.urlsafe_b64encode(b"k" + b"9" * 19).decode().rstrip("=")
    problem(client.get(f"/admin/v1/{collection}?cursor={cursor}", headers=auth), 400, "cursor")


@pytest.mark.parametrize("claim", ["website", "profile", "picture"])
def test_a_url_claim_that_urlsplit_refuses_is_bad_input(
        client: FlaskClient, auth: dict[str, str], claim: str) -> None:
    answer = client.post("/admin/v1/users", headers=auth, json={
        "username": "eve", "password": "a long password", "claims": {claim: "http://[::1"}})
    assert claim in problem(answer, 400, "claims")["detail"]
    assert client.get("/admin/v1/users/eve", headers=auth).status_code == 404


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_client_assertion_whose_claims_hold_a_lone_surrogate_is_invalid_client(
        client: FlaskClient) -> None:
    """Its unverified `sub` names the client (RFC 7523 §3) before any signature is checked."""
    claims = {"iss": "x\ud800", "sub": "x\ud800", "aud": "http://authserver.test/oauth/token",
              "exp": 9999999999, "jti": "j"}
    assertion = _b64({"alg": "RS256", "typ": "JWT"}) + "." + _b64(claims) + ".AAAA"
    answer = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert answer.status_code in (400, 401) and answer.json["error"] == "invalid_client", answer.json


@pytest.mark.parametrize("name", ["login_hint", "nonce", "state"])
def test_a_request_object_whose_claims_hold_a_lone_surrogate_is_invalid_request_object(
        server: ServerProcess, rp: RelyingParty, browser: Browser,  # noqa: F811
        signer: Signer, name: str) -> None:  # noqa: F811
    _, challenge = pkce()
    payload = json.dumps(_object(server, rp, challenge, **{name: "x\ud800"}))
    signed = jwt.api_jws.encode(payload.encode(), signer.rsa, algorithm="RS256",
                                headers={"kid": "rsa-1", "typ": "JWT"})
    fresh = Browser(server, browser.username, PASSWORD)
    try:
        answer = fresh.http.get(f"{server.base_url}/oauth/authorize",
                                params=_outer(rp, signed, state="outer"))
        found = query(answer)
        assert found["error"] == "invalid_request_object" and found["state"] == "outer", found
    finally:
        fresh.close()
    assert "Traceback" not in server.log()
