"""The device authorization grant (RFC 8628) against `authserver serve`: a real browser
(Chromium) enters the user code while the device polls over HTTP; every error of §3.5; one
token response for two polls at once; user-code guessing throttled; public and confidential
clients; and, with the app's clock moved, codes that expire."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from .browser import hidden_fields
from .helpers import action, advance_clock, csrf, make_client
from .support import ServerProcess, clear_counters
from .verifier import IndependentVerifier

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Both workers count failed user codes in one place, as several hosts would.
REDIS_URL = "redis://127.0.0.1:6379/1"
# A 1 s poll interval (the default 5 is in test_config.py): the device waits it for real.
POLL_INTERVAL = 1
SERVER_ENV = {"AUTHSERVER_RATELIMIT_STORAGE_URL": REDIS_URL,
              "AUTHSERVER_DEVICE_POLL_INTERVAL": str(POLL_INTERVAL)}
PASSWORD = "device-password-1"


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    """Each test starts with no failed user codes counted: the counters live in Redis, shared
    with earlier runs and the other database's server."""
    clear_counters(REDIS_URL, "*user_code*")
    yield
    clear_counters(REDIS_URL, "*user_code*")

@pytest.fixture(scope="module")
def tv(server: ServerProcess) -> Iterator[dict[str, Any]]:
    """A public client (a CLI, a TV) registered for the device grant."""
    app = server.cli_json("client", "create", "--name", "Living room TV", "--grant-type",
                          DEVICE_GRANT, "--grant-type", "refresh_token", "--auth-method", "none",
                          "--scope", "openid profile notes:read")
    yield app
    assert "Traceback" not in server.log()


@pytest.fixture
def person(server: ServerProcess) -> dict[str, Any]:
    username = f"viewer{secrets.token_hex(3)}"
    user = server.cli_json("user", "create", "--username", username, "--password-stdin",
                           stdin=PASSWORD + "\n")
    return {"username": username, "sub": user["sub"]}


def _start(server: ServerProcess, client_id: str, **form: str) -> dict[str, Any]:
    answer = server.http.post("/oauth/device_authorization",
                              data={"client_id": client_id, "scope": "openid notes:read", **form})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _poll(server: ServerProcess, client_id: str, device_code: str) -> httpx.Response:
    return server.http.post("/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id})


def _answer(server: ServerProcess, person: dict[str, Any], user_code: str, decision: str) -> str:
    """The user's part over plain HTTP: the code, the login, the decision."""
    with httpx.Client(base_url=server.base_url, timeout=10) as browser:
        page = browser.get("/device", params={"user_code": user_code})
        login = browser.post("/device", data={"user_code": user_code, "csrf_token": csrf(page.text)})
        consent = browser.post(action(login.text), data={
            "csrf_token": csrf(login.text), "username": person["username"], "password": PASSWORD})
        assert 'name="decision"' in consent.text, consent.text
        done = browser.post(action(consent.text),
                            data={**hidden_fields(consent.text), "decision": decision})
        assert done.status_code == 200
        return done.text


def test_a_browser_approves_while_the_device_polls(
    server: ServerProcess, tv: dict[str, Any], person: dict[str, Any], chromium_browser: Any
) -> None:
    started = _start(server, tv["client_id"])
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}",
                        started["user_code"])
    assert started["verification_uri"] == f"{server.base_url}/device"
    assert started["expires_in"] == 600 and started["interval"] == POLL_INTERVAL
    first = _poll(server, tv["client_id"], started["device_code"])
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"

    browser = chromium_browser
    page = browser.new_page()
    page.goto(started["verification_uri"])
    # Typed as a person would: lower case, no dash.
    page.fill("input[name=user_code]", started["user_code"].replace("-", "").lower())
    page.click("button[type=submit]")
    page.fill("input[name=username]", person["username"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision][value=allow]")
    assert "Living room TV" in page.content() and "Read your notes" in page.content()
    page.click("button[name=decision][value=allow]")
    page.wait_for_selector("text=Device connected")

    time.sleep(started["interval"])  # the device waits its interval, as RFC 8628 §3.5 asks
    answer = _poll(server, tv["client_id"], started["device_code"])
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["refresh_token"] and tokens["scope"] == "openid notes:read"
    claims = IndependentVerifier(server.http, server.base_url).verify(
        tokens["id_token"], audience=tv["client_id"])
    assert claims["sub"] == person["sub"]
    me = server.http.get("/api/notes", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    again = _poll(server, tv["client_id"], started["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_denied_request_is_access_denied(
    server: ServerProcess, tv: dict[str, Any], person: dict[str, Any]
) -> None:
    started = _start(server, tv["client_id"])
    assert "Request denied" in _answer(server, person, started["user_code"], "deny")
    answer = _poll(server, tv["client_id"], started["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"


def test_two_polls_at_once_after_approval_get_one_token_response(
    server: ServerProcess, tv: dict[str, Any], person: dict[str, Any]
) -> None:
    started = _start(server, tv["client_id"])
    _answer(server, person, started["user_code"], "allow")
    barrier, statuses = threading.Barrier(2), []

    def poll() -> None:
        with httpx.Client(base_url=server.base_url, timeout=10) as own:
            barrier.wait(timeout=10)
            statuses.append(own.post("/oauth/token", data={
                "grant_type": DEVICE_GRANT, "device_code": started["device_code"],
                "client_id": tv["client_id"]}).status_code)

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 400]


def test_a_confidential_client_authenticates_at_both_endpoints(
    server: ServerProcess, person: dict[str, Any]
) -> None:
    app = server.cli_json("client", "create", "--name", "Kiosk", "--grant-type", DEVICE_GRANT,
                          "--scope", "openid profile")
    auth = (app["client_id"], app["client_secret"])
    refused = server.http.post("/oauth/device_authorization", data={"client_id": app["client_id"]})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    started = server.http.post("/oauth/device_authorization", auth=auth,
                               data={"scope": "openid"}).json()
    _answer(server, person, started["user_code"], "allow")
    time.sleep(started["interval"])
    tokens = server.http.post("/oauth/token", auth=auth, data={
        "grant_type": DEVICE_GRANT, "device_code": started["device_code"]})
    assert tokens.status_code == 200 and "refresh_token" not in tokens.json()


def test_a_client_without_the_device_grant_is_unauthorized(server: ServerProcess) -> None:
    app = server.cli_json("client", "create", "--name", "web", "--grant-type",
                          "authorization_code", "--redirect-uri", "http://127.0.0.1:9/cb",
                          "--auth-method", "none")
    answer = server.http.post("/oauth/device_authorization", data={"client_id": app["client_id"]})
    assert answer.status_code == 400 and answer.json()["error"] == "unauthorized_client"


def test_discovery_lists_the_device_grant(server: ServerProcess) -> None:
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["device_authorization_endpoint"] == \
        f"{server.base_url}/oauth/device_authorization"
    assert DEVICE_GRANT in metadata["grant_types_supported"]


def test_guessing_user_codes_is_throttled(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as browser:
        token = csrf(browser.get("/device").text)
        statuses = [browser.post("/device", data={"user_code": "BCDF-GHJK", "csrf_token": token})
                    .status_code for _ in range(6)]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429


# With Flask's test client (the default 5 s interval, no waiting on a loaded machine's
# timing), whose clock the test moves: polling too fast, expiry.

def test_polling_too_fast_is_slow_down_and_the_interval_grows(
    app: Flask, client: FlaskClient
) -> None:
    client_id, _ = make_client(app, grant_types=[DEVICE_GRANT], auth_method="none",
                               scope="openid")
    started = client.post("/oauth/device_authorization", data={"client_id": client_id}).json
    assert started["interval"] == 5  # RFC 8628 §3.2's default, AUTHSERVER_DEVICE_POLL_INTERVAL

    def poll() -> Any:
        return client.post("/oauth/token", data={
            "grant_type": DEVICE_GRANT, "device_code": started["device_code"],
            "client_id": client_id})

    assert poll().json["error"] == "authorization_pending"
    fast = poll()
    assert fast.status_code == 400 and fast.json["error"] == "slow_down"
    # RFC 8628 §3.5: slow_down adds 5 seconds to the interval, for good.
    assert "10 seconds" in fast.json["error_description"]
    advance_clock(app, 6)  # past the first interval, not the grown one
    assert poll().json["error"] == "slow_down"


def test_an_expired_device_code_is_expired_token(app: Flask, client: FlaskClient) -> None:
    client_id, _ = make_client(app, grant_types=[DEVICE_GRANT], auth_method="none",
                               scope="openid")
    started = client.post("/oauth/device_authorization", data={"client_id": client_id}).json
    advance_clock(app, 601)
    answer = client.post("/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": client_id})
    assert answer.status_code == 400 and answer.json["error"] == "expired_token"
    page = client.get("/device")
    refused = client.post("/device", data={"user_code": started["user_code"],
                                           "csrf_token": csrf(page.get_data(as_text=True))})
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
