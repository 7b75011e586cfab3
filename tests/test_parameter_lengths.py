"""Every authorization parameter is bounded (issue "Hardening, round three", item 10), through
Flask's test client: a parameter over 4096 characters is invalid_request, back at a trusted
redirect URI without echoing an overlong state, or on an error page when the redirect is not
trusted; at PAR the same, as JSON."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .helpers import REDIRECT, basic, make_client, pkce
from .test_code_flow import authorize_url

pytestmark = pytest.mark.usefixtures("no_traceback")
HUGE = "x" * 20_000
LIMIT = 4096


@pytest.fixture
def rp(app: Flask) -> tuple[str, str]:
    return make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                       scope="openid profile email")


def _error_params(answer: object) -> dict[str, list[str]]:
    assert answer.status_code == 302  # type: ignore[attr-defined]
    location = answer.headers["Location"]  # type: ignore[attr-defined]
    assert location.startswith(REDIRECT) and len(location) < 1000, location[:200]
    return parse_qs(urlsplit(location).query)


def test_an_overlong_state_is_refused_without_echoing_it(
    client: FlaskClient, rp: tuple[str, str]
) -> None:
    _, challenge = pkce()
    params = _error_params(client.get(authorize_url(rp[0], challenge, state=HUGE)))
    assert params["error"] == ["invalid_request"] and "state" not in params
    assert "state" in params["error_description"][0]


@pytest.mark.parametrize("name", ["nonce", "login_hint", "claims", "acr_values", "ui_locales",
                                  "made_up_parameter"])
def test_an_overlong_parameter_is_invalid_request_with_the_state(
    client: FlaskClient, rp: tuple[str, str], name: str
) -> None:
    _, challenge = pkce()
    params = _error_params(client.get(authorize_url(rp[0], challenge, **{name: HUGE})))
    assert params["error"] == ["invalid_request"] and params["state"] == ["st-123"]
    assert name in params["error_description"][0]


def test_a_parameter_of_the_limit_is_accepted(client: FlaskClient, rp: tuple[str, str]) -> None:
    _, challenge = pkce()
    answer = client.get(authorize_url(rp[0], challenge, state="s" * LIMIT, login_hint="a" * LIMIT))
    assert answer.status_code == 200 and 'name="password"' in answer.get_data(as_text=True)


def test_an_overlong_parameter_with_an_untrusted_redirect_is_an_error_page(
    client: FlaskClient, rp: tuple[str, str]
) -> None:
    _, challenge = pkce()
    answer = client.get(authorize_url(rp[0], challenge, state=HUGE,
                                      redirect_uri="https://evil.example/cb"))
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_an_overlong_pushed_parameter_is_invalid_request(
    client: FlaskClient, rp: tuple[str, str]
) -> None:
    _, challenge = pkce()
    answer = client.post("/oauth/par", headers=basic(*rp), data={
        "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256", "nonce": HUGE})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"
    assert "nonce" in answer.json["error_description"]
