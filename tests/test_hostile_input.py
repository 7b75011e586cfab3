"""Unauthenticated input that used to be a 500 (issue "Hardening, round three", item 7),
through Flask's test client, each answered with its RFC's 4xx and no traceback logged: JSON
nested deeper than Python's parser recurses (a client assertion, a registration body, a DPoP
proof at the token endpoint and at the APIs, an access token, an id_token_hint), text that is
not ASCII where a secret is compared (a DPoP nonce, the forms' csrf_token), and an essential
acr whose `values` is not a list."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

from .dpop_client import DPoPKey
from .helpers import REDIRECT, basic, csrf, make_client, pkce
from .test_code_flow import authorize_url, location_params

pytestmark = pytest.mark.usefixtures("no_traceback")
ISSUER = "http://authserver.test"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEEP = 2_000  # past the recursion limit of Python's json, within a DPoP proof's 8 KB


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


DEEP_JSON = b'{"a":' + b"[" * DEEP + b"]" * DEEP + b"}"


def _nested_jws(where: str) -> str:
    """A compact JWS whose header or payload is JSON nested DEEP times, signed by no one."""
    header = DEEP_JSON if where == "header" else json.dumps(
        {"alg": "ES256", "typ": "dpop+jwt"}).encode()
    payload = DEEP_JSON if where == "payload" else b'{"sub":"x"}'
    return f"{_b64(header)}.{_b64(payload)}.{_b64(b'signature')}"


def _nested_proof(where: str, key: DPoPKey) -> str:
    """A DPoP proof nested DEEP times: a payload the client signs itself (a proof carries its
    own key, so its signature verifies), or a header."""
    if where == "header":
        return _nested_jws(where)
    return jwt.api_jws.encode(DEEP_JSON, key.private, algorithm="ES256",
                              headers={"typ": "dpop+jwt", "jwk": key.jwk})


@pytest.fixture
def open_app(settings: Settings) -> Iterator[Flask]:
    """Open registration and DPoP server nonces on."""
    application = create_app(dataclasses.replace(settings, registration="open", dpop_nonce=True))
    yield application
    application.extensions["authserver.db"].dispose()


# JSON nested too deep ---------------------------------------------------------------------

@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_nested_client_assertion_is_invalid_client(client: FlaskClient, where: str) -> None:
    answer = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _nested_jws(where)})
    # 400 as for every bad assertion (RFC 6749 §5.2: 401 is for the Authorization header).
    assert answer.status_code == 400 and answer.json["error"] == "invalid_client", answer.json


def test_a_nested_registration_body_is_invalid_client_metadata(open_app: Flask) -> None:
    body = '{"redirect_uris":' + "[" * DEEP + "]" * DEEP + "}"
    answer = open_app.test_client().post("/oauth/register", data=body,
                                         content_type="application/json")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_nested_dpop_proof_at_the_token_endpoint_is_invalid_dpop_proof(
    app: Flask, client: FlaskClient, where: str
) -> None:
    creds = make_client(app, scope="profile")
    answer = client.post("/oauth/token", headers={**basic(*creds),
                                                  "DPoP": _nested_proof(where, DPoPKey())},
                         data={"grant_type": "client_credentials", "scope": "profile"})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_dpop_proof"


def _dpop_token(client: FlaskClient, creds: tuple[str, str]) -> str:
    answer = client.post("/oauth/token", headers={
        **basic(*creds), "DPoP": DPoPKey().proof("POST", f"{ISSUER}/oauth/token")},
        data={"grant_type": "client_credentials", "scope": "profile"})
    assert answer.status_code == 200, answer.json
    return str(answer.json["access_token"])


@pytest.mark.parametrize("path", ["/api/me", "/oauth/userinfo"])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_nested_dpop_proof_at_an_api_is_invalid_dpop_proof(
    app: Flask, client: FlaskClient, path: str, where: str
) -> None:
    token = _dpop_token(client, make_client(app, scope="openid profile"))
    answer = client.get(path, headers={"Authorization": f"DPoP {token}",
                                       "DPoP": _nested_proof(where, DPoPKey())})
    assert answer.status_code == 401 and answer.json["error"] == "invalid_dpop_proof"
    assert answer.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


@pytest.mark.parametrize("path", ["/api/me", "/oauth/userinfo"])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_nested_access_token_is_invalid_token(
    client: FlaskClient, path: str, where: str
) -> None:
    answer = client.get(path, headers={"Authorization": f"Bearer {_nested_jws(where)}"})
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"


@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_nested_id_token_hint_is_an_error_page(client: FlaskClient, where: str) -> None:
    answer = client.get("/oauth/logout", query_string={"id_token_hint": _nested_jws(where)})
    assert answer.status_code == 400 and "Location" not in answer.headers


# Text that is not ASCII where a secret is compared ----------------------------------------

def test_a_non_ascii_dpop_nonce_is_use_dpop_nonce(open_app: Flask) -> None:
    client = open_app.test_client()
    creds = make_client(open_app, scope="profile")
    proof = DPoPKey().proof("POST", f"{ISSUER}/oauth/token", nonce="n\u00f6nce\u2603")
    answer = client.post("/oauth/token", headers={**basic(*creds), "DPoP": proof},
                         data={"grant_type": "client_credentials", "scope": "profile"})
    assert answer.status_code == 400 and answer.json["error"] == "use_dpop_nonce"
    assert answer.headers["DPoP-Nonce"]


def test_a_non_ascii_dpop_nonce_at_an_api_is_use_dpop_nonce(open_app: Flask) -> None:
    client = open_app.test_client()
    creds = make_client(open_app, scope="profile")
    first = client.post("/oauth/token", headers={**basic(*creds), "DPoP": DPoPKey().proof(
        "POST", f"{ISSUER}/oauth/token")}, data={"grant_type": "client_credentials"})
    nonce = first.headers["DPoP-Nonce"]
    key = DPoPKey()
    token = client.post("/oauth/token", headers={**basic(*creds), "DPoP": key.proof(
        "POST", f"{ISSUER}/oauth/token", nonce=nonce)},
        data={"grant_type": "client_credentials", "scope": "profile"}).json["access_token"]
    answer = client.get("/api/me", headers={"Authorization": f"DPoP {token}", "DPoP": key.proof(
        "GET", f"{ISSUER}/api/me", access_token=token, nonce="\u00e9t\u00e9")})
    assert answer.status_code == 401 and answer.json["error"] == "use_dpop_nonce"


NON_ASCII = "j\u00e9ton-\u2603"


def test_a_non_ascii_csrf_token_on_the_login_form_is_refused(
    app: Flask, client: FlaskClient, user: str
) -> None:
    rp, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                        auth_method="none")
    _, challenge = pkce()
    page = client.get(authorize_url(rp, challenge)).get_data(as_text=True)
    csrf(page)  # a session with a CSRF token of its own
    match = re.search(r'<form method="post" action="([^"]+)"', page)
    assert match, page
    answer = client.post(match.group(1), data={"username": "alice", "password": "x",
                                               "csrf_token": NON_ASCII})
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_non_ascii_csrf_token_on_the_logout_form_is_refused(client: FlaskClient) -> None:
    client.get("/oauth/logout")
    answer = client.post("/oauth/logout", data={"confirm": "yes", "csrf_token": NON_ASCII})
    assert answer.status_code == 400


def test_a_non_ascii_csrf_token_on_the_device_form_is_refused(client: FlaskClient) -> None:
    csrf(client.get("/device").get_data(as_text=True))
    answer = client.post("/device", data={"user_code": "ABCD-EFGH", "csrf_token": NON_ASCII})
    assert answer.status_code == 400


# An essential acr whose values is not a list ------------------------------------------------

@pytest.mark.parametrize("values", [5, "1", {"a": 1}, True, [["1"]]])
def test_an_essential_acr_whose_values_is_not_a_list_of_strings_is_invalid_request(
    app: Flask, client: FlaskClient, user: str, values: Any
) -> None:
    rp, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                        auth_method="none")
    _, challenge = pkce()
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": values}}})
    params = location_params(client.get(authorize_url(rp, challenge, claims=claims)))
    assert params["error"] == "invalid_request" and params["state"] == "st-123"
