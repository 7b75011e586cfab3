"""The claims request parameter (OIDC Core §5.5), acr and amr (§2, RFC 8176) and sid
(Back-Channel Logout §2.1), black-box over HTTP to the app in process; ID tokens verified by PyJWT
against the JWKS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .browser import REDIRECT, Browser, RelyingParty, new_user, query
from .helpers import pkce
from .support import ServerProcess
from .verifier import IndependentVerifier

PASSWORD = "claims-request-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


@pytest.fixture(scope="module")
def rp(server: ServerProcess) -> Iterator[RelyingParty]:
    app = server.cli_json("client", "create", "--name", "claims rp", "--grant-type",
                          "authorization_code", "--grant-type", "refresh_token",
                          "--redirect-uri", REDIRECT, "--scope", "openid profile email")
    yield RelyingParty(server, app["client_id"], app["client_secret"])
    assert "Traceback" not in server.log()


@pytest.fixture
def browser(server: ServerProcess) -> Iterator[Browser]:
    user_browser = new_user(server, PASSWORD, "--email", "c@example.com", "--name", "Claire Mant",
                            "--claim", "given_name=Claire", "--claim", "phone_number=+1 555 0100")
    yield user_browser
    user_browser.close()


def _id_token(server: ServerProcess, rp: RelyingParty, tokens: dict[str, Any]) -> dict[str, Any]:
    return IndependentVerifier(server.http, server.base_url).verify(
        tokens["id_token"], audience=rp.client_id)


def _userinfo(server: ServerProcess, tokens: dict[str, Any]) -> dict[str, Any]:
    answer = server.http.get("/oauth/userinfo",
                             headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_claims_asked_for_by_name_come_where_they_were_asked(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    claims = {"id_token": {"email": {"essential": True}},
              "userinfo": {"given_name": None, "name": {"essential": True}}}
    tokens = rp.tokens(browser, scope="openid", claims=json.dumps(claims))
    id_token = _id_token(server, rp, tokens)
    assert id_token["email"] == "c@example.com"
    assert "given_name" not in id_token and "name" not in id_token
    userinfo = _userinfo(server, tokens)
    assert userinfo["given_name"] == "Claire" and userinfo["name"] == "Claire Mant"
    assert "email" not in userinfo  # asked for the ID token only
    # A refresh keeps what the grant asked for.
    refreshed = server.http.post("/oauth/token", auth=(rp.client_id, rp.client_secret or ""),
                                 data={"grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]}).json()
    assert _id_token(server, rp, refreshed)["email"] == "c@example.com"
    assert _userinfo(server, refreshed)["name"] == "Claire Mant"


def test_a_claim_whose_scope_the_client_may_not_have_is_left_out(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    claims = {"userinfo": {"phone_number": {"essential": True}, "shoe_size": None,
                           "email": None}}
    tokens = rp.tokens(browser, scope="openid", claims=json.dumps(claims))
    userinfo = _userinfo(server, tokens)
    assert "phone_number" not in userinfo  # the client may not have the phone scope
    assert "shoe_size" not in userinfo
    assert userinfo["email"] == "c@example.com"


def test_the_consent_page_asks_for_the_scopes_of_the_claims_named(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    params = rp.request(challenge, scope="openid",
                        claims=json.dumps({"userinfo": {"email": None}}))
    url = f"{server.base_url}/oauth/authorize"
    page = browser.http.get(url, params=params)
    consent = browser.http.post(Browser.form_url(page), data={
        "username": browser.username, "password": browser.password,
        "csrf_token": page.text.split('name="csrf_token" value="')[1].split('"')[0]})
    assert "See your email address" in consent.text


@pytest.mark.parametrize("claims", ["{not json", '["email"]', '{"userinfo": ["email"]}',
                                    '{"userinfo": {"email": true}}'])
def test_a_malformed_claims_parameter_is_invalid_request(
    server: ServerProcess, rp: RelyingParty, browser: Browser, claims: str
) -> None:
    _, challenge = pkce()
    found = query(browser.authorize(rp.request(challenge, claims=claims)))
    assert found["error"] == "invalid_request", found
    assert found["state"] == "st" and found["iss"] == server.base_url


def test_acr_and_amr_say_how_the_user_signed_in(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    # acr_values the server does not know, or a level this user cannot reach (no second
    # factor), are no error (a voluntary claim, §3.1.2.1): the sign-in is what it is.
    tokens = rp.tokens(browser, acr_values="urn:example:mfa 1")
    id_token = _id_token(server, rp, tokens)
    assert id_token["acr"] == "1" and id_token["amr"] == ["pwd"]
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["acr_values_supported"] == ["phr", "2", "1"]
    tokens = rp.tokens(browser, acr_values="2")
    assert _id_token(server, rp, tokens)["acr"] == "1"
    assert {"acr", "amr"} <= set(metadata["claims_supported"])
    assert metadata["claims_parameter_supported"] is True


def test_an_essential_acr_the_server_cannot_meet_is_refused(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:example:mfa"]}}}
    found = query(browser.authorize(rp.request(challenge, claims=json.dumps(claims))))
    assert found["error"] == "unmet_authentication_requirements", found
    met = {"id_token": {"acr": {"essential": True, "values": ["urn:example:mfa", "1"]}}}
    assert _id_token(server, rp, rp.tokens(browser, claims=json.dumps(met)))["acr"] == "1"


def test_id_tokens_of_one_sign_in_share_its_sid(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    first = _id_token(server, rp, rp.tokens(browser))
    second = _id_token(server, rp, rp.tokens(browser))  # the same browser session
    assert isinstance(first["sid"], str) and len(first["sid"]) >= 32
    assert first["sid"] == second["sid"]
    other = Browser(server, browser.username, browser.password)
    try:
        assert _id_token(server, rp, rp.tokens(other))["sid"] != first["sid"]
    finally:
        other.close()


def test_password_grant_id_tokens_have_acr_and_amr(server: ServerProcess, browser: Browser) -> None:
    app = server.cli_json("client", "create", "--name", "first party", "--grant-type", "password")
    tokens = server.http.post("/oauth/token", auth=(app["client_id"], app["client_secret"]), data={
        "grant_type": "password", "username": browser.username, "password": PASSWORD,
        "scope": "openid"}).json()
    claims = IndependentVerifier(server.http, server.base_url).verify(
        tokens["id_token"], audience=app["client_id"])
    assert claims["amr"] == ["pwd"] and claims["acr"] == "1" and "sid" not in claims


def test_a_claims_parameter_nested_too_deep_is_invalid_request(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    form = rp.request(challenge, claims="[" * 5000)
    answer = browser.http.post(f"{server.base_url}/oauth/authorize", data=form)
    assert query(answer)["error"] == "invalid_request"
