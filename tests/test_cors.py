"""CORS (INTERFACE.md "Browsers and resource servers as callers"): discovery and the JWKS for
anyone; the token, revocation, device authorization and userinfo endpoints and the sample APIs
for the calling client's origins only; preflights; never credentials; never the authorization
endpoint or the pages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from authserver.store.clients import current_metadata, find_client, update_client
from authserver.web.cors import vary_on_origin

from .helpers import REDIRECT, basic, make_client, password_grant

APP_ORIGIN = "https://app.example.com"  # the origin of REDIRECT
SPA_ORIGIN = "http://localhost:5173"  # given with --allowed-origin
EVIL = "https://evil.example"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


def allowed(response: TestResponse, origin: str) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    assert "Origin" in response.headers.get("Vary", "")
    exposed = {h.strip().lower() for h in
               response.headers.get("Access-Control-Expose-Headers", "").split(",")}
    assert {"www-authenticate", "dpop-nonce"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers


def refused(response: TestResponse) -> None:
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.fixture
def spa(app: Flask) -> str:
    """A public code-flow client whose pages live at APP_ORIGIN (its redirect URI) and at
    SPA_ORIGIN (allowed besides)."""
    client_id, _ = make_client(
        app, grant_types=["authorization_code", "refresh_token", DEVICE],
        redirect_uris=[REDIRECT], auth_method="none", allowed_origins=[SPA_ORIGIN])
    return client_id


@pytest.fixture
def service(app: Flask) -> tuple[str, str]:
    """A confidential client_credentials client with an allowed origin."""
    return make_client(app, scope="profile notes:read", allowed_origins=[SPA_ORIGIN])


def cc_token(client: FlaskClient, creds: tuple[str, str], scope: str = "profile") -> str:
    answer = client.post("/oauth/token", headers=basic(*creds),
                         data={"grant_type": "client_credentials", "scope": scope})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.json["access_token"])  # type: ignore[index]


def preflight(client: FlaskClient, path: str, origin: str, method: str = "POST") -> TestResponse:
    return client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, dpop"})


# -- discovery and the JWKS: anyone ---------------------------------------------------------

def test_discovery_and_jwks_answer_any_origin_with_a_star(client: FlaskClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
                 "/.well-known/jwks.json"):
        for origin in (EVIL, "null", APP_ORIGIN):
            answer = client.get(path, headers={"Origin": origin})
            assert answer.status_code == 200
            assert answer.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in answer.headers
        pre = preflight(client, path, EVIL, "GET")
        assert pre.status_code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "*"
        assert "GET" in pre.headers["Access-Control-Allow-Methods"]


# -- endpoints that answer the client the request names ---------------------------------------

def test_the_token_endpoint_answers_the_origins_of_the_requesting_client(
        client: FlaskClient, spa: str) -> None:
    form = {"grant_type": "authorization_code", "code": "nope", "client_id": spa,
            "redirect_uri": REDIRECT, "code_verifier": "x" * 43}
    for origin in (APP_ORIGIN, SPA_ORIGIN):
        answer = client.post("/oauth/token", data=form, headers={"Origin": origin})
        assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"  # type: ignore[index]
        allowed(answer, origin)
    other = client.post("/oauth/token", data=form, headers={"Origin": EVIL})
    assert other.status_code == 400 and other.json == answer.json  # handled as without CORS
    refused(other)
    assert "Origin" in other.headers["Vary"]


def test_a_token_response_is_readable_by_an_allowed_origin(
        client: FlaskClient, service: tuple[str, str]) -> None:
    answer = client.post("/oauth/token", headers={**basic(*service), "Origin": SPA_ORIGIN},
                         data={"grant_type": "client_credentials"})
    assert answer.status_code == 200
    allowed(answer, SPA_ORIGIN)
    refused(client.post("/oauth/token", headers={**basic(*service), "Origin": APP_ORIGIN},
                        data={"grant_type": "client_credentials"}))


def test_the_origin_check_costs_the_token_endpoint_no_query(
        app: Flask, client: FlaskClient, service: tuple[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = app.extensions["authserver.store"].clients.cache
    reads: list[int] = []
    read = cache.current_version
    monkeypatch.setattr(cache, "current_version", lambda: reads.append(1) or read())
    form = {"grant_type": "client_credentials"}
    client.post("/oauth/token", data=form, headers=basic(*service))  # now cached
    reads.clear()
    client.post("/oauth/token", data=form, headers=basic(*service))
    without = len(reads)
    reads.clear()
    allowed(client.post("/oauth/token", data=form,
                        headers={**basic(*service), "Origin": SPA_ORIGIN}), SPA_ORIGIN)
    assert len(reads) == without == 1


def test_an_unknown_client_or_no_client_gets_no_cors(client: FlaskClient) -> None:
    for form in ({"grant_type": "client_credentials", "client_id": "nobody"},
                 {"grant_type": "client_credentials"}):
        answer = client.post("/oauth/token", data=form, headers={"Origin": APP_ORIGIN})
        assert answer.status_code in (400, 401)
        refused(answer)


def test_revocation_and_device_authorization_answer_the_client_origins(
        client: FlaskClient, spa: str) -> None:
    revoked = client.post("/oauth/revoke", data={"client_id": spa, "token": "unknown"},
                          headers={"Origin": APP_ORIGIN})
    assert revoked.status_code == 200
    allowed(revoked, APP_ORIGIN)
    refused(client.post("/oauth/revoke", data={"client_id": spa, "token": "unknown"},
                        headers={"Origin": EVIL}))
    device = client.post("/oauth/device_authorization", data={"client_id": spa},
                         headers={"Origin": SPA_ORIGIN})
    assert device.status_code == 200, device.get_data(as_text=True)
    allowed(device, SPA_ORIGIN)
    refused(client.post("/oauth/device_authorization", data={"client_id": spa},
                        headers={"Origin": EVIL}))


def test_an_origin_added_by_an_update_holds_from_the_next_request(
        app: Flask, client: FlaskClient, service: tuple[str, str]) -> None:
    def ask() -> TestResponse:
        return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={**basic(*service), "Origin": "https://new.example.com"})

    refused(ask())
    with app.extensions["authserver.db"].session() as session:
        stored = find_client(session, service[0])
        assert stored is not None
        update_client(stored, replace(current_metadata(stored),
                                      allowed_origins=["https://new.example.com"]),
                      frozenset(stored.scope.split()))
    allowed(ask(), "https://new.example.com")


# -- endpoints that answer the access token's client ----------------------------------------

def test_userinfo_answers_the_origins_of_the_token_client(
        app: Flask, client: FlaskClient, user: str) -> None:
    creds = make_client(app, grant_types=["password"], allowed_origins=[SPA_ORIGIN])
    token = password_grant(client, creds, scope="openid profile").json["access_token"]
    for method in (client.get, client.post):
        answer = method("/oauth/userinfo", headers={"Authorization": f"Bearer {token}",
                                                    "Origin": SPA_ORIGIN})
        assert answer.status_code == 200 and answer.json["sub"] == user  # type: ignore[index]
        allowed(answer, SPA_ORIGIN)
    refused(client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}",
                                                   "Origin": EVIL}))


def test_the_sample_apis_answer_the_token_client_origins_errors_included(
        client: FlaskClient, service: tuple[str, str]) -> None:
    token = cc_token(client, service, scope="profile")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}", "Origin": SPA_ORIGIN})
    assert me.status_code == 200
    allowed(me, SPA_ORIGIN)
    # A refusal of a token whose signature verified is readable too: the page learns why.
    short = client.get("/api/notes", headers={"Authorization": f"Bearer {token}",
                                              "Origin": SPA_ORIGIN})
    assert short.status_code == 403 and "insufficient_scope" in short.headers["WWW-Authenticate"]
    allowed(short, SPA_ORIGIN)
    refused(client.get("/api/me", headers={"Authorization": f"Bearer {token}", "Origin": EVIL}))


def test_a_request_without_a_verifiable_token_gets_no_cors(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        answer = client.get("/api/me", headers={**headers, "Origin": SPA_ORIGIN})
        assert answer.status_code == 401
        refused(answer)


# -- preflights ----------------------------------------------------------------------------

# Each path's methods (one app for all: an app costs more than these requests).
PREFLIGHTED = {
    "/oauth/token": {"POST"}, "/oauth/revoke": {"POST"},
    "/oauth/device_authorization": {"POST"}, "/oauth/userinfo": {"GET", "POST"},
    "/api/me": {"GET"}, "/api/notes": {"GET", "POST"},
}


def test_a_preflight_answers_204_with_methods_headers_and_max_age(client: FlaskClient) -> None:
    for path, methods in PREFLIGHTED.items():
        answer = preflight(client, path, SPA_ORIGIN)
        assert answer.status_code == 204, path
        assert answer.headers["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")
                } == methods, path
        named = {h.strip().lower()
                 for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "dpop"} <= named
        assert int(answer.headers["Access-Control-Max-Age"]) > 0
        assert "Origin" in answer.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in answer.headers
        assert answer.get_data() == b""


# -- never on the authorization endpoint or the pages ------------------------------------------

def test_the_authorization_endpoint_and_the_pages_never_answer_cors(
        client: FlaskClient, spa: str) -> None:
    query: dict[str, Any] = {"client_id": spa, "redirect_uri": REDIRECT, "response_type": "code"}
    for path in ("/oauth/authorize", "/oauth/logout", "/device", "/healthz", "/oauth/introspect"):
        answer = client.get(path, query_string=query, headers={"Origin": APP_ORIGIN})
        refused(answer)
        pre = preflight(client, path, APP_ORIGIN, "GET")
        refused(pre)
        assert pre.status_code != 204, path


@pytest.mark.parametrize(("before", "after"), [
    (None, "Origin"),
    ("Accept-Encoding", "Accept-Encoding, Origin"),
    ("accept-encoding, ORIGIN", "accept-encoding, ORIGIN"),
    ("X-Origin-Of-Thing", "X-Origin-Of-Thing, Origin"),
])
def test_vary_names_origin_once_beside_what_it_had(before: str | None, after: str) -> None:
    response = Response("{}")
    if before is not None:
        response.headers["Vary"] = before
    vary_on_origin(response)
    assert response.headers.get_all("Vary") == [after]
