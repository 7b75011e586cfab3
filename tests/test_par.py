"""Pushed authorization requests (RFC 9126) over HTTP to the app in process: push, then authorize
with the request_uri alone; single use, another client's, malformed pushes, signed request
objects pushed, clients that must push; expiry with Flask's test client and its clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .browser import REDIRECT, Browser, RelyingParty, query
from .helpers import advance_clock, basic, make_client, pkce
from .support import ServerProcess
from .test_request_objects import Signer

URN = "urn:ietf:params:oauth:request_uri:"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def rp(server: ServerProcess, signer: Signer, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[RelyingParty]:
    keys = tmp_path_factory.mktemp("par") / "jwks.json"
    keys.write_text(json.dumps(signer.jwks()))
    app = server.cli_json("client", "create", "--name", "par rp", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid",
                          "--jwks", str(keys))
    yield RelyingParty(server, app["client_id"], app["client_secret"])
    assert "Traceback" not in server.log()


def _push(server: ServerProcess, rp: RelyingParty, **form: Any) -> Any:
    return server.http.post("/oauth/par", data=form, auth=(rp.client_id, rp.client_secret or ""))


def test_a_pushed_request_is_the_authorization_request(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    verifier, challenge = pkce()
    pushed = _push(server, rp, **rp.request(challenge, state="pushed-state"))
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["request_uri"].startswith(URN) and pushed.json()["expires_in"] == 60
    request_uri = pushed.json()["request_uri"]
    found = query(browser.authorize({"client_id": rp.client_id, "request_uri": request_uri}))
    assert found["state"] == "pushed-state" and "code" in found
    assert rp.exchange(found["code"], verifier).status_code == 200
    # Single use: the request_uri gave a code, it gives nothing more.
    again = query(browser.authorize({"client_id": rp.client_id, "request_uri": request_uri}))
    assert again["error"] == "invalid_request_uri", again
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["pushed_authorization_request_endpoint"] == f"{server.base_url}/oauth/par"
    assert metadata["require_pushed_authorization_requests"] is False


def test_another_clients_request_uri_is_refused(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    request_uri = _push(server, rp, **rp.request(challenge)).json()["request_uri"]
    other = server.cli_json("client", "create", "--name", "other", "--grant-type",
                            "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid")
    found = query(browser.authorize({"client_id": other["client_id"], "request_uri": request_uri}))
    assert found["error"] == "invalid_request_uri"


def test_a_signed_request_object_may_be_pushed(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer
) -> None:
    verifier, challenge = pkce()
    now = int(time.time())
    claims = {"iss": rp.client_id, "aud": server.base_url, "exp": now + 60,
              **rp.request(challenge, state="in-the-object")}
    pushed = _push(server, rp, client_id=rp.client_id, request=signer.sign(claims, "PS256"))
    assert pushed.status_code == 201, pushed.text
    found = query(browser.authorize({"client_id": rp.client_id,
                                     "request_uri": pushed.json()["request_uri"]}))
    assert found["state"] == "in-the-object"
    forged = _push(server, rp, client_id=rp.client_id, request=Signer().sign(claims))
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_request_object"


@pytest.mark.parametrize(("form", "error"), [
    ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
    ({"response_type": "token"}, "invalid_request"),
    ({"scope": "openid notes:write"}, "invalid_scope"),
    ({"request_uri": URN + "x"}, "invalid_request"),
    ({"client_id": "someone-else"}, "invalid_request"),
])
def test_a_bad_push_is_refused_as_json(
    server: ServerProcess, rp: RelyingParty, form: dict[str, str], error: str
) -> None:
    _, challenge = pkce()
    answer = _push(server, rp, **{**rp.request(challenge), **form})
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text


def test_a_push_needs_the_clients_authentication(server: ServerProcess, rp: RelyingParty) -> None:
    _, challenge = pkce()
    answer = server.http.post("/oauth/par", data=rp.request(challenge),
                              auth=(rp.client_id, "wrong secret"))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_client_that_must_push_is_refused_a_plain_request(
    server: ServerProcess, browser: Browser
) -> None:
    app = server.cli_json("client", "create", "--name", "pushes", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid",
                          "--require-par")
    assert app["require_pushed_authorization_requests"] is True
    pushing = RelyingParty(server, app["client_id"], app["client_secret"])
    _, challenge = pkce()
    plain = query(browser.authorize(pushing.request(challenge)))
    assert plain["error"] == "invalid_request" and plain["state"] == "st", plain
    request_uri = _push(server, pushing, **pushing.request(challenge)).json()["request_uri"]
    found = query(browser.authorize({"client_id": pushing.client_id, "request_uri": request_uri}))
    assert "code" in found


# Expiry, with Flask's test client and its clock.

def test_a_request_uri_expires_after_a_minute(app: Flask, client: FlaskClient) -> None:
    client_id, secret = make_client(app, grant_types=["authorization_code"],
                                    redirect_uris=["https://app.example.com/cb"], scope="openid")
    _, challenge = pkce()
    pushed = client.post("/oauth/par", headers=basic(client_id, secret), data={
        "response_type": "code", "client_id": client_id, "scope": "openid",
        "redirect_uri": "https://app.example.com/cb", "code_challenge": challenge,
        "code_challenge_method": "S256"}).json
    advance_clock(app, 61)
    answer = client.get("/oauth/authorize", query_string={
        "client_id": client_id, "request_uri": pushed["request_uri"]})
    assert answer.status_code == 302
    assert "error=invalid_request_uri" in answer.headers["Location"]


