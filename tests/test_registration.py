"""Dynamic client registration (RFC 7591) and its management (RFC 7592) against `authserver
serve` with AUTHSERVER_REGISTRATION=token: initial access tokens from the CLI, used once;
create, read, update (the registration access token rotates), delete; the errors of RFC 7591
§3.2.2; the scopes a self-registered client may have; and a registered client's code flow."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from .browser import REDIRECT, RelyingParty, new_user
from .support import ServerProcess, clear_counters

# Failed registrations are counted per address (5 in 5 minutes). In Redis, so the count is
# the same whichever worker a kept-alive connection lands on, and cleared before each test.
REDIS_URL = "redis://127.0.0.1:6379/2"
SERVER_ENV = {"AUTHSERVER_REGISTRATION": "token", "AUTHSERVER_RATELIMIT_STORAGE_URL": REDIS_URL}
PASSWORD = "registration-password-1"


def _initial_token(server: ServerProcess) -> str:
    created = server.cli_json("registration-token", "create", "--ttl", "600")
    assert created["expires_at"] > 0
    return str(created["initial_access_token"])


def _register(server: ServerProcess, metadata: dict[str, Any], token: str | None = None) -> Any:
    token = token if token is not None else _initial_token(server)
    return server.http.post("/oauth/register", json=metadata,
                            headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    clear_counters(REDIS_URL)
    yield


@pytest.fixture(scope="module")
def registered(server: ServerProcess) -> Iterator[dict[str, Any]]:
    answer = _register(server, {"client_name": "Self made", "redirect_uris": [REDIRECT],
                                "grant_types": ["authorization_code", "refresh_token"],
                                "scope": "openid email",
                                "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"]})
    assert answer.status_code == 201, answer.text
    yield dict(answer.json())
    assert "Traceback" not in server.log()


def test_registration_answers_per_rfc_7591(server: ServerProcess,
                                           registered: dict[str, Any]) -> None:
    assert registered["client_secret"] and registered["client_secret_expires_at"] == 0
    assert registered["client_name"] == "Self made" and registered["scope"] == "openid email"
    assert registered["redirect_uris"] == [REDIRECT]
    assert registered["post_logout_redirect_uris"] == ["http://127.0.0.1:9/bye"]
    assert registered["registration_client_uri"] == \
        f"{server.base_url}/oauth/register/{registered['client_id']}"
    assert registered["registration_access_token"]
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["registration_endpoint"] == f"{server.base_url}/oauth/register"
    shown = server.cli_json("client", "show", registered["client_id"])
    assert shown["grant_types"] == ["authorization_code", "refresh_token"]


def test_an_initial_access_token_registers_one_client(server: ServerProcess) -> None:
    token = _initial_token(server)
    assert _register(server, {"client_name": "one", "redirect_uris": [REDIRECT]},
                     token).status_code == 201
    again = _register(server, {"client_name": "two", "redirect_uris": [REDIRECT]}, token)
    assert again.status_code == 401 and again.json()["error"] == "invalid_token"
    missing = server.http.post("/oauth/register", json={"redirect_uris": [REDIRECT]})
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_token"


def test_a_failed_registration_does_not_spend_the_token(server: ServerProcess) -> None:
    token = _initial_token(server)
    bad = _register(server, {"redirect_uris": ["not a uri"]}, token)
    assert bad.status_code == 400
    assert _register(server, {"redirect_uris": [REDIRECT]}, token).status_code == 201


@pytest.mark.parametrize(("metadata", "error"), [
    ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
    ({"grant_types": ["authorization_code"]}, "invalid_redirect_uri"),
    ({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "response_types": ["token"]}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "magic"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "scope": "notes:write"}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "HS256"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks_uri": "https://app.example.com/jwks"},
     "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "client_name": "a\\nb\\u0000"}, "invalid_client_metadata"),
    ({"redirect_uris": "https://app.example.com/cb"}, "invalid_redirect_uri"),
    ({"redirect_uris": ['https://caf\u00e9.example/"cb']}, "invalid_redirect_uri"),
    ({"redirect_uris": [REDIRECT], "post_logout_redirect_uris": "x"}, "invalid_client_metadata"),
    # A jwks that is no JWK Set (schemathesis found the first one a 500 in a CI run).
    ({"redirect_uris": [REDIRECT], "jwks": {"x": "y"}}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": {}}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": {"keys": "x"}}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": {"keys": [1, "x"]}}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": {"keys": [{}]}}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": "x"}, "invalid_client_metadata"),
    ({"redirect_uris": [REDIRECT], "jwks": [1]}, "invalid_client_metadata"),
])
def test_invalid_metadata_is_refused_per_rfc_7591(
    server: ServerProcess, metadata: dict[str, Any], error: str
) -> None:
    if "client_name" in metadata:
        metadata = {**metadata, "client_name": "a\nb\x00"}
    answer = _register(server, metadata)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error, answer.json()


def test_a_body_that_is_not_a_json_object_is_invalid_client_metadata(
    server: ServerProcess
) -> None:
    answer = server.http.post("/oauth/register", content=b"[1, 2]",
                              headers={"Content-Type": "application/json",
                                       "Authorization": f"Bearer {_initial_token(server)}"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"


def _manage(server: ServerProcess, method: str, registered: dict[str, Any], token: str,
            **kwargs: Any) -> Any:
    return server.http.request(method, registered["registration_client_uri"],
                               headers={"Authorization": f"Bearer {token}"}, **kwargs)


def test_read_update_and_delete_per_rfc_7592(server: ServerProcess) -> None:
    made = _register(server, {"client_name": "managed", "redirect_uris": [REDIRECT]}).json()
    token = made["registration_access_token"]
    read = _manage(server, "GET", made, token)
    assert read.status_code == 200 and read.json()["client_name"] == "managed"
    assert "client_secret" not in read.json()
    wrong = _manage(server, "GET", made, "not-the-token")
    assert wrong.status_code == 401
    updated = _manage(server, "PUT", made, token, json={
        "client_id": made["client_id"], "client_name": "renamed",
        "redirect_uris": ["http://127.0.0.1:9/other"], "scope": "openid"})
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["client_name"] == "renamed" and body["redirect_uris"] == ["http://127.0.0.1:9/other"]
    assert body["registration_access_token"] != token  # rotated on update
    assert _manage(server, "GET", made, token).status_code == 401  # the old one is gone
    new_token = body["registration_access_token"]
    bad = _manage(server, "PUT", made, new_token, json={
        "client_id": made["client_id"], "redirect_uris": ["ftp://x"]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_redirect_uri"
    assert _manage(server, "GET", made, new_token).json()["client_name"] == "renamed"
    gone = _manage(server, "DELETE", made, new_token)
    assert gone.status_code == 204
    assert _manage(server, "GET", made, new_token).status_code == 401
    assert server.cli("client", "show", made["client_id"], check=False).returncode == 2
    refused = server.http.post("/oauth/token", auth=(made["client_id"], made["client_secret"]),
                               data={"grant_type": "client_credentials"})
    assert refused.status_code == 401


def test_a_registered_client_completes_the_code_flow(
    server: ServerProcess, registered: dict[str, Any]
) -> None:
    rp = RelyingParty(server, registered["client_id"], registered["client_secret"])
    browser = new_user(server, PASSWORD, "--email", "self@example.com")
    try:
        tokens = rp.tokens(browser, scope="openid email")
    finally:
        browser.close()
    assert tokens["refresh_token"] and tokens["id_token"]
    info = server.http.get("/oauth/userinfo",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json()["email"] == "self@example.com"


def test_openid_client_registers_itself_and_signs_a_user_in(
    server: ServerProcess, node_rp: Path
) -> None:
    """openid-client's dynamicClientRegistration with an initial access token, then its code
    flow with the client it registered (tests/rp/register.mjs)."""
    token = _initial_token(server)
    browser = new_user(server, PASSWORD, "--email", "node@example.com")
    rp = subprocess.Popen(["node", str(node_rp.parent / "register.mjs"), server.base_url,
                           REDIRECT, token], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        assert rp.stdout is not None and rp.stdin is not None
        first = rp.stdout.readline()
        assert first, rp.stderr.read() if rp.stderr else "no output"
        started = json.loads(first)
        assert server.cli_json("client", "show", started["client_id"])["client_name"] == \
            "openid-client registered"
        answer = browser.authorize(dict(parse_qsl(urlsplit(started["authorization_url"]).query)))
        assert answer.status_code == 302, answer.text
        stdout, stderr = rp.communicate(answer.headers["Location"] + "\n", timeout=60)
        assert rp.returncode == 0, stderr
    finally:
        browser.close()
        if rp.poll() is None:
            rp.kill()
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["userinfo"]["email"] == "node@example.com"
    assert result["claims"]["aud"] == started["client_id"]


def test_a_software_statement_is_refused_not_ignored(server: ServerProcess) -> None:
    answer = _register(server, {"redirect_uris": [REDIRECT], "software_statement": "eyJ.x.y"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unapproved_software_statement"


# Open registration and its limits, with Flask's test client (a setting of its own).

def test_open_registration_needs_no_token_but_keeps_to_its_scopes(settings: Any) -> None:
    from authserver import create_app

    app = create_app(settings.override(registration="open",
                                       registration_scopes="openid profile notes:read"))
    client = app.test_client()
    made = client.post("/oauth/register", json={"redirect_uris": [REDIRECT],
                                                 "scope": "openid notes:read"})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.json["scope"] == "openid notes:read"
    default = client.post("/oauth/register", json={"redirect_uris": [REDIRECT]})
    assert default.json["scope"] == "openid profile notes:read"
    beyond = client.post("/oauth/register", json={"redirect_uris": [REDIRECT],
                                                   "scope": "openid notes:write"})
    assert beyond.status_code == 400 and beyond.json["error"] == "invalid_client_metadata"
    off = create_app(settings).test_client()
    assert off.post("/oauth/register", json={"redirect_uris": [REDIRECT]}).status_code == 404
    assert "registration_endpoint" not in off.get("/.well-known/openid-configuration").json


def test_an_update_per_rfc_7592_keeps_the_origins_the_operator_allowed(settings: Any) -> None:
    from dataclasses import replace

    from authserver import create_app
    from authserver.store.clients import current_metadata, find_client, update_client

    app = create_app(settings.override(registration="open"))
    client = app.test_client()
    made = client.post("/oauth/register", json={"redirect_uris": [REDIRECT]}).json
    with app.extensions["authserver.db"].session() as session:  # as `client update` does
        stored = find_client(session, made["client_id"])
        assert stored is not None
        update_client(stored, replace(current_metadata(stored),
                                      allowed_origins=["https://spa.example.com"]),
                      frozenset(stored.scope.split()))
    updated = client.put(made["registration_client_uri"].split("authserver.test", 1)[1],
                         json={"client_id": made["client_id"], "redirect_uris": [REDIRECT],
                               "client_name": "renamed"},
                         headers={"Authorization": f"Bearer {made['registration_access_token']}"})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    with app.extensions["authserver.db"].session() as session:
        stored = find_client(session, made["client_id"])
        assert stored is not None
        assert (stored.name, stored.allowed_origins) == ("renamed", ["https://spa.example.com"])
