"""The authorization code flow with PKCE and OpenID Connect through Flask's test client, on
SQLite and PostgreSQL: the happy path, prompt/max_age/login_hint, consent memory, hostile
requests; its helpers are the other flow tests' too. PKCE and the code's exchange:
test_code_exchange.py; RP-initiated logout: test_code_flow_logout.py."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver.oauth.parameter_limits import MAX_LENGTH

from .helpers import PASSWORD, REDIRECT, action, advance_clock, basic, csrf, make_client, pkce, verify

ISSUER = "http://authserver.test"


def location_params(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def confidential_client(app: Flask) -> tuple[str, str]:
    return make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT])


def authorize_url(client_id: str, challenge: str | None = None, **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": "openid profile email", "state": "st-123",
              "nonce": secrets.token_urlsafe(8)}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v != ""})


def login(browser: FlaskClient, url: str, username: str = "alice", password: str = PASSWORD) -> Any:
    page = browser.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="username"' in html
    return browser.post(action(html), data={"username": username, "password": password,
                                            "csrf_token": csrf(html)})


def consent(browser: FlaskClient, url: str, page: Any, decision: str = "allow") -> Any:
    html = page.get_data(as_text=True)
    assert 'name="decision"' in html and 'value="allow"' in html and 'value="deny"' in html
    return browser.post(action(html), data={"decision": decision, "csrf_token": csrf(html)})


def get_code(browser: FlaskClient, client_id: str, challenge: str | None, **extra: str) -> dict[str, str]:
    url = authorize_url(client_id, challenge, **extra)
    consent_page = login(browser, url)
    return location_params(consent(browser, url, consent_page))


def exchange(client: FlaskClient, client_id: str, code: str, verifier: str | None,
             secret: str | None = None, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client_id, **extra}
    if verifier:
        form["code_verifier"] = verifier
    headers = basic(client_id, secret) if secret else {}
    if secret:
        form.pop("client_id")
    return client.post("/oauth/token", data=form, headers=headers)


def test_public_client_full_flow_with_pkce_and_id_token(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    params = get_code(client, public_client, challenge, nonce="n-456")
    assert params["state"] == "st-123"
    assert params["iss"] == ISSUER  # RFC 9207
    response = exchange(client, public_client, params["code"], verifier)
    assert response.status_code == 200, response.json
    tokens = response.json
    claims = verify(app, tokens["id_token"], public_client)
    assert claims["sub"] == user and claims["nonce"] == "n-456"
    assert claims["email"] == "alice@example.com"
    assert abs(claims["auth_time"] - time.time()) < 60
    assert claims["at_hash"]
    assert tokens["refresh_token"]
    access = verify(app, tokens["access_token"], f"{ISSUER}/api")
    assert access["sub"] == user and access["client_id"] == public_client
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json["sub"] == user


def test_confidential_client_without_pkce_is_allowed(
    client: FlaskClient, confidential_client: tuple[str, str], user: str
) -> None:
    params = get_code(client, confidential_client[0], None)
    response = exchange(client, confidential_client[0], params["code"], None, confidential_client[1])
    assert response.status_code == 200, response.json


def test_consent_is_remembered_and_the_session_reused(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge)
    again = client.get(authorize_url(public_client, challenge, state="second"))
    params = location_params(again)
    assert params["state"] == "second" and params.get("code"), params


def test_a_consent_to_more_scopes_is_remembered_with_the_earlier_ones(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge, scope="openid profile")
    url = authorize_url(public_client, challenge, scope="openid profile email")
    asked = client.get(url)
    assert 'name="decision"' in asked.get_data(as_text=True)  # email is new: asked
    location_params(consent(client, url, asked))
    for scope in ("openid profile email", "openid email", "openid profile"):
        again = location_params(client.get(authorize_url(public_client, challenge, scope=scope)))
        assert again.get("code"), (scope, again)  # every one of them remembered


def test_a_replayed_nonce_is_refused(client: FlaskClient, public_client: str, user: str) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge, nonce="once")
    params = location_params(client.get(authorize_url(public_client, challenge, nonce="once")))
    assert params["error"] == "invalid_request"


def test_the_longest_nonce_a_request_may_carry_works_and_is_checked_for_replay(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    """A nonce as long as any parameter may be (parameter_limits.MAX_LENGTH): PostgreSQL
    refuses an index entry over 2,704 bytes, so the replayed-nonce index must not hold it
    whole."""
    nonce = (secrets.token_urlsafe(3100) * 2)[:MAX_LENGTH]
    verifier, challenge = pkce()
    params = get_code(client, public_client, challenge, nonce=nonce)
    response = exchange(client, public_client, params["code"], verifier)
    assert response.status_code == 200, response.json
    assert verify(app, response.json["id_token"], public_client)["nonce"] == nonce
    again = location_params(client.get(authorize_url(public_client, challenge, nonce=nonce)))
    assert again["error"] == "invalid_request"
    other = nonce[:-1] + ("a" if nonce[-1] != "a" else "b")  # the same but for its last character
    assert "code" in location_params(client.get(authorize_url(public_client, challenge, nonce=other)))


def test_prompt_consent_asks_again(client: FlaskClient, public_client: str, user: str) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge)
    page = client.get(authorize_url(public_client, challenge, prompt="consent"))
    assert page.status_code == 200 and 'value="allow"' in page.get_data(as_text=True)


def test_prompt_login_asks_for_the_password_again(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge)
    page = client.get(authorize_url(public_client, challenge, prompt="login"))
    assert 'name="password"' in page.get_data(as_text=True)


def test_prompt_none_without_session_is_login_required(
    client: FlaskClient, public_client: str
) -> None:
    _, challenge = pkce()
    params = location_params(client.get(authorize_url(public_client, challenge, prompt="none")))
    assert params["error"] == "login_required" and params["state"] == "st-123"
    assert params["iss"] == ISSUER


def test_prompt_none_without_consent_is_consent_required(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    url = authorize_url(public_client, challenge)
    login(client, url)  # signed in, but consent never given
    params = location_params(client.get(authorize_url(public_client, challenge, prompt="none")))
    assert params["error"] == "consent_required"


def test_max_age_forces_a_fresh_login(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    get_code(client, public_client, challenge)
    advance_clock(app, 1)
    page = client.get(authorize_url(public_client, challenge, max_age="0"))
    assert 'name="password"' in page.get_data(as_text=True)


def test_login_hint_prefills_the_username(client: FlaskClient, public_client: str) -> None:
    _, challenge = pkce()
    page = client.get(authorize_url(public_client, challenge, login_hint="alice"))
    assert 'value="alice"' in page.get_data(as_text=True)


def test_deny_returns_access_denied(client: FlaskClient, public_client: str, user: str) -> None:
    _, challenge = pkce()
    url = authorize_url(public_client, challenge)
    params = location_params(consent(client, url, login(client, url), decision="deny"))
    assert params["error"] == "access_denied" and params["state"] == "st-123"


def test_wrong_password_shows_the_login_page_again(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    response = login(client, authorize_url(public_client, challenge), password="wrong")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


def test_login_post_without_csrf_token_is_refused(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    url = action(client.get(authorize_url(public_client, challenge)).get_data(as_text=True))
    response = client.post(url, data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    forged = client.post(url, data={"username": "alice", "password": PASSWORD,
                                    "csrf_token": "guess"})
    assert forged.status_code == 400


def test_session_cookie_is_httponly_and_lax(client: FlaskClient, public_client: str, user: str) -> None:
    _, challenge = pkce()
    url = authorize_url(public_client, challenge)
    response = login(client, url)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "https://app.example.com/callback/extra",
        "https://app.example.com/callback?x=1",
        "https://app.example.com@evil.example.com/callback",
        "https://app.example.com/CALLBACK",
    ],
    ids=["other-host", "extra-path", "added-query", "userinfo-trick", "case-changed"],
)
def test_unregistered_redirect_uri_shows_an_error_and_never_redirects(
    client: FlaskClient, public_client: str, redirect_uri: str
) -> None:
    _, challenge = pkce()
    response = client.get(authorize_url(public_client, challenge, redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not registered" in response.get_data(as_text=True)


def test_unknown_client_shows_an_error(client: FlaskClient) -> None:
    response = client.get(authorize_url("nobody", "x" * 43))
    assert response.status_code == 400 and "Location" not in response.headers


def test_an_openid_request_ignores_scopes_the_server_does_not_know(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    params = get_code(client, public_client, challenge, scope="openid profile made_up:thing")
    tokens = exchange(client, public_client, params["code"], verifier).json
    assert tokens["scope"] == "openid profile"
    assert "made_up" not in verify(app, tokens["access_token"], "http://authserver.test/api")["scope"]


def test_a_plain_oauth_request_refuses_an_unknown_scope(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    answer = client.get(authorize_url(public_client, challenge, scope="profile made_up:thing"))
    params = location_params(answer)
    assert params["error"] == "invalid_scope" and "made_up" in params["error_description"]
