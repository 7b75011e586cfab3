"""Registration and device details (issue "Hardening, round three", item 8), through Flask's
test client: RFC 7592 answers a bad registration access token with a Bearer challenge; a
device code polled by another client is invalid_grant; a public client may not register an
http back-channel logout URI; open registration has a rate of its own
(AUTHSERVER_REGISTRATION_RATE), answered 429 with Retry-After, apart from failure counting."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.cli import main
from authserver.config import ConfigError, Settings

from .helpers import REDIRECT, make_client

pytestmark = pytest.mark.usefixtures("no_traceback")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def open_app(settings: Settings) -> Iterator[Flask]:
    """Open registration, at most 3 registrations per address in 5 minutes."""
    application = create_app(dataclasses.replace(settings, registration="open",
                                                 registration_rate=(3, 300)))
    yield application
    application.extensions["authserver.db"].dispose()


def _register(client: FlaskClient, **metadata: Any) -> Any:
    body = {"client_name": "self made", "redirect_uris": [REDIRECT], **metadata}
    return client.post("/oauth/register", json=body)


@pytest.mark.parametrize("case", ["wrong token", "another client's token", "unknown client"])
def test_a_bad_registration_access_token_gets_a_bearer_challenge(open_app: Flask, case: str) -> None:
    client = open_app.test_client()
    made = _register(client).json
    other = _register(client).json
    client_id = "no-such-client" if case == "unknown client" else made["client_id"]
    token = other["registration_access_token"] if case == "another client's token" \
        else "not-the-token"
    answer = client.get(f"/oauth/register/{client_id}",
                        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_device_code_polled_by_another_client_is_invalid_grant(
    app: Flask, client: FlaskClient
) -> None:
    tv, _ = make_client(app, grant_types=[DEVICE_GRANT], auth_method="none", scope="openid")
    thief, _ = make_client(app, grant_types=[DEVICE_GRANT], auth_method="none", scope="openid")
    started = client.post("/oauth/device_authorization", data={"client_id": tv}).json
    answer = client.post("/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": thief})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
    unknown = client.post("/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": "no-such-code", "client_id": thief})
    assert unknown.status_code == 400 and unknown.json["error"] == "invalid_grant"


BACKCHANNEL = "http://127.0.0.1:9/backchannel"


def test_a_public_client_may_not_register_an_http_backchannel_logout_uri(open_app: Flask) -> None:
    client = open_app.test_client()
    public = _register(client, token_endpoint_auth_method="none", backchannel_logout_uri=BACKCHANNEL)
    assert public.status_code == 400 and public.json["error"] == "invalid_client_metadata"
    assert "https" in public.json["error_description"]
    confidential = _register(client, backchannel_logout_uri=BACKCHANNEL)
    assert confidential.status_code == 201, confidential.json


def test_the_cli_refuses_a_public_client_with_an_http_backchannel_logout_uri(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", settings.keys_dir)
    result = CliRunner().invoke(main, [
        "client", "create", "--name", "spa", "--auth-method", "none", "--grant-type",
        "authorization_code", "--redirect-uri", REDIRECT, "--backchannel-logout-uri", BACKCHANNEL])
    assert result.exit_code == 2 and "https" in result.output, result.output


def test_open_registration_has_a_rate_of_its_own(open_app: Flask) -> None:
    client = open_app.test_client()
    # Failures (a bad registration access token) are counted apart: they leave the rate whole.
    for _ in range(3):
        bad = client.get("/oauth/register/x", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    assert [_register(client).status_code for _ in range(3)] == [201] * 3
    refused = _register(client)
    assert refused.status_code == 429 and refused.json["error"] == "temporarily_unavailable"
    assert 1 <= int(refused.headers["Retry-After"]) <= 301
    # Another address still registers.
    elsewhere = client.post("/oauth/register", json={"client_name": "x", "redirect_uris": [REDIRECT]},
                            environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert elsewhere.status_code == 201


def test_the_registration_rate_defaults_to_five_in_five_minutes() -> None:
    assert Settings.from_env({}).registration_rate == (5, 300)
    assert Settings.from_env({"AUTHSERVER_REGISTRATION_RATE": "20/3600"}).registration_rate == \
        (20, 3600)


@pytest.mark.parametrize("raw", ["5", "five/300", "0/300", "5/0", "-1/60", "5/300/1", "5 / 300x"])
def test_a_bad_registration_rate_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="AUTHSERVER_REGISTRATION_RATE"):
        Settings.from_env({"AUTHSERVER_REGISTRATION_RATE": raw})


def test_serve_exits_2_on_a_bad_registration_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSERVER_REGISTRATION_RATE", "lots")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2 and "AUTHSERVER_REGISTRATION_RATE" in result.output
