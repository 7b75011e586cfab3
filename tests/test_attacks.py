"""What an attacker still got through (issue "Hardening, round two"), each class over HTTP to
the app in process (tests/inprocess.py; the raw bytes Granian parses are test_attacks_raw.py),
each asserting the exact status and error code and that the server log holds no traceback."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from .browser import Browser
from .helpers import csrf, pkce
from .support import ServerProcess

REDIRECT = "http://127.0.0.1:9/cb"  # nothing listens: only the Location is read
PASSWORD = "attack-target-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


@pytest.fixture(scope="module")
def accounts(server: ServerProcess) -> Iterator[dict[str, Any]]:
    username = f"target{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", username, "--password-stdin",
                    stdin=PASSWORD + "\n")
    first_party = server.cli_json("client", "create", "--name", "first party", "--grant-type",
                                  "password", "--grant-type", "refresh_token")
    spa = server.cli_json("client", "create", "--name", "spa", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    yield {"username": username, "first_party": first_party, "spa": spa}
    assert "Traceback" not in server.log()


def _auth(app: dict[str, Any]) -> tuple[str, str]:
    return app["client_id"], app["client_secret"]


# 1. Token endpoint parameters come from the form body only -------------------------------

def test_query_string_parameters_are_not_token_request_parameters(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    answer = server.http.post(
        "/oauth/token?grant_type=password", auth=_auth(accounts["first_party"]),
        data={"username": accounts["username"], "password": PASSWORD})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"  # the body names no grant


# 3. Unauthenticated requests that used to be 500s ---------------------------------------

@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_a_basic_header_that_is_not_utf8_is_invalid_client(server: ServerProcess, path: str) -> None:
    header = "Basic " + base64.b64encode(b"\xff\xfe:\xc3(").decode()
    answer = server.http.post(path, headers={"Authorization": header},
                              data={"grant_type": "client_credentials", "token": "x"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize("scope", ['profile"', "prof\\ile", "profil\u00e9", "\u2603"])
def test_a_scope_with_characters_an_error_cannot_echo_is_invalid_scope(
    server: ServerProcess, accounts: dict[str, Any], scope: str
) -> None:
    answer = server.http.post("/oauth/token", auth=_auth(accounts["first_party"]), data={
        "grant_type": "password", "username": accounts["username"], "password": PASSWORD,
        "scope": scope})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    description = answer.json()["error_description"]
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]*", description), description


def test_a_response_type_with_a_quote_is_unsupported_response_type(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    _, challenge = pkce()
    answer = server.http.get("/oauth/authorize", params={
        "response_type": 'code"x', "client_id": accounts["spa"]["client_id"],
        "redirect_uri": REDIRECT, "scope": "openid", "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert answer.status_code == 302
    params = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert params["error"] == ["unsupported_response_type"] and params["state"] == ["s1"]


def test_a_token_type_hint_with_a_backslash_is_unsupported_token_type(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    answer = server.http.post("/oauth/revoke", auth=_auth(accounts["first_party"]),
                              data={"token": "x", "token_type_hint": "refresh\\token\u00e9"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_token_type"


# 7. Redirects built from the Host header --------------------------------------------------

def test_no_redirect_is_built_from_the_host_header(server: ServerProcess) -> None:
    answer = server.http.get("/oauth//authorize", params={"client_id": "x"},
                             headers={"Host": "evil.example"})
    assert answer.status_code == 404
    assert "evil.example" not in answer.headers.get("Location", "")
    assert answer.json()["error"] == "not_found"


# 8. Lenient parsing --------------------------------------------------------------------------

def test_basic_and_client_secret_post_together_are_refused(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    other = server.cli_json("client", "create", "--name", "other",
                            "--auth-method", "client_secret_post")
    answer = server.http.post("/oauth/token", auth=_auth(accounts["first_party"]), data={
        "grant_type": "client_credentials", "client_id": other["client_id"],
        "client_secret": other["client_secret"]})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("name", ["grant_type", "scope", "refresh_token", "username"])
def test_a_token_parameter_given_twice_is_invalid_request(
    server: ServerProcess, accounts: dict[str, Any], name: str
) -> None:
    form = [("grant_type", "password"), ("username", accounts["username"]),
            ("password", PASSWORD), ("scope", "profile"), ("refresh_token", "r")]
    form.append((name, dict(form)[name]))
    answer = server.http.post("/oauth/token", auth=_auth(accounts["first_party"]),
                              content=urlencode(form),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert name in answer.json()["error_description"]


@pytest.mark.parametrize("name", ["nonce", "prompt", "max_age"])
def test_an_authorization_parameter_given_twice_is_refused(
    server: ServerProcess, accounts: dict[str, Any], name: str
) -> None:
    _, challenge = pkce()
    query = [("response_type", "code"), ("client_id", accounts["spa"]["client_id"]),
             ("redirect_uri", REDIRECT), ("scope", "openid"), ("code_challenge", challenge),
             ("code_challenge_method", "S256"), (name, "1"), (name, "2")]
    answer = server.http.get("/oauth/authorize?" + urlencode(query))
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "more than once" in answer.text


# 9. Introspection hints ---------------------------------------------------------------------

@pytest.mark.parametrize("hint", ["refresh_token", "made_up_type"])
def test_introspection_finds_a_live_token_whatever_the_hint(
    server: ServerProcess, accounts: dict[str, Any], hint: str
) -> None:
    tokens = server.http.post("/oauth/token", auth=_auth(accounts["first_party"]), data={
        "grant_type": "password", "username": accounts["username"], "password": PASSWORD}).json()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = server.http.post("/oauth/introspect", auth=_auth(accounts["first_party"]),
                                  data={"token": token, "token_type_hint": hint})
        assert answer.status_code == 200 and answer.json()["active"] is True


# 10. Names and patterns ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["two\nlines", "car\rriage", "esc\x1b[31m", "n" * 10_000])
def test_client_names_an_operator_cannot_read_are_refused(server: ServerProcess, name: str) -> None:
    result = server.cli("client", "create", "--name", name, check=False)
    assert result.returncode == 2 and "client name" in result.stderr


def test_a_username_with_a_trailing_newline_is_refused(server: ServerProcess) -> None:
    result = server.cli("user", "create", "--username", "eve\n", "--password-stdin",
                        stdin="password123\n", check=False)
    assert result.returncode == 2 and "username" in result.stderr


def test_a_code_verifier_with_a_trailing_newline_is_invalid_request(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    verifier = "A" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    browser = _signed_in_browser(server, accounts)
    _, answer = _browser_flow(server, browser, accounts["spa"]["client_id"],
                              code_challenge=challenge.decode())
    browser.close()
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    refused = server.http.post("/oauth/token", data={
        "grant_type": "authorization_code", "client_id": accounts["spa"]["client_id"],
        "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier + "\n"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert "code_verifier" in refused.json()["error_description"]


# 6. Redirect URIs that could inject CSP directives ------------------------------------------

@pytest.mark.parametrize("uri", ["https://a.example;script-src 'unsafe-inline' */cb",
                                 "https://*.example/cb", "https://a.example/c b",
                                 "https://a.example/<cb>", "https://a.example/\r\nX: y"])
def test_a_redirect_uri_that_is_not_an_rfc3986_uri_is_refused(server: ServerProcess, uri: str) -> None:
    result = server.cli("client", "create", "--name", "csp", "--grant-type",
                        "authorization_code", "--redirect-uri", uri, check=False)
    assert result.returncode == 2 and "redirect URI" in result.stderr


# 4 and 2: login loops, and sessions that outlive logout or a password change -------------

def _browser_flow(server: ServerProcess, browser: httpx.Client, client_id: str,
                  **extra: str) -> tuple[str, httpx.Response]:
    _, challenge = pkce()
    url = f"{server.base_url}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "st", "code_challenge": challenge,
        "code_challenge_method": "S256", **extra})
    return url, browser.get(url)


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_a_fresh_login_with_first_time_consent_completes(
    server: ServerProcess, accounts: dict[str, Any], extra: dict[str, str]
) -> None:
    spa = server.cli_json("client", "create", "--name", "fresh", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    with server.new_client() as browser:
        url, page = _browser_flow(server, browser, spa["client_id"], **extra)
        assert 'name="password"' in page.text
        consent = browser.post(Browser.form_url(page), data={
            "username": accounts["username"], "password": PASSWORD, "csrf_token": csrf(page.text)})
        assert 'name="decision"' in consent.text
        answer = browser.post(Browser.form_url(consent),
                              data={**_hidden(consent.text), "decision": "allow"})
    assert answer.status_code == 302, answer.text
    assert "code" in parse_qs(urlsplit(answer.headers["Location"]).query)


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def _signed_in_browser(server: ServerProcess, accounts: dict[str, Any]) -> httpx.Client:
    browser = server.new_client()
    url, page = _browser_flow(server, browser, accounts["spa"]["client_id"])
    consent = browser.post(Browser.form_url(page), data={
        "username": accounts["username"], "password": PASSWORD, "csrf_token": csrf(page.text)})
    if 'name="decision"' in consent.text:  # else consented before: the code came already
        browser.post(Browser.form_url(consent), data={**_hidden(consent.text), "decision": "allow"})
    return browser


def _prompt_none(server: ServerProcess, cookies: httpx.Cookies, client_id: str) -> dict[str, list[str]]:
    with server.new_client(cookies=cookies) as replay:
        _, answer = _browser_flow(server, replay, client_id, prompt="none")
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["Location"]).query)


def test_a_cookie_from_before_logout_signs_nobody_in(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    browser = _signed_in_browser(server, accounts)
    copied = httpx.Cookies(browser.cookies)
    assert "code" in _prompt_none(server, copied, accounts["spa"]["client_id"])
    page = browser.get(f"{server.base_url}/oauth/logout")
    browser.post(f"{server.base_url}/oauth/logout",
                 data={"confirm": "yes", "csrf_token": csrf(page.text)})
    browser.close()
    assert _prompt_none(server, copied, accounts["spa"]["client_id"])["error"] == ["login_required"]


def test_a_password_change_ends_every_session_of_the_user(
    server: ServerProcess, accounts: dict[str, Any]
) -> None:
    browser = _signed_in_browser(server, accounts)
    copied = httpx.Cookies(browser.cookies)
    browser.close()
    assert "code" in _prompt_none(server, copied, accounts["spa"]["client_id"])
    server.cli("user", "set-password", accounts["username"], "--password-stdin",
               stdin=PASSWORD + "\n")
    assert _prompt_none(server, copied, accounts["spa"]["client_id"])["error"] == ["login_required"]


def test_deleting_a_user_ends_their_sessions(server: ServerProcess, accounts: dict[str, Any]) -> None:
    doomed = f"doomed{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", doomed, "--password-stdin",
                    stdin=PASSWORD + "\n")
    browser = _signed_in_browser(server, {**accounts, "username": doomed})
    copied = httpx.Cookies(browser.cookies)
    browser.close()
    assert "code" in _prompt_none(server, copied, accounts["spa"]["client_id"])
    server.cli("user", "delete", doomed)
    assert _prompt_none(server, copied, accounts["spa"]["client_id"])["error"] == ["login_required"]
