"""A passkey as the second factor, over HTTP (the Flask test client) on SQLite and PostgreSQL,
with a software authenticator (tests/soft_authenticator.py) and an authenticator app's codes
from pyotp: after the password of a user with an app, the second step offers the passkey
(amr pwd+swk, acr phr); only the held user's passkeys are accepted; a user whose only second
factor is a passkey is asked for it after the password, and the password grant refuses them;
the account's own sign-in takes it too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

from .account_helpers import sign_in
from .helpers import PASSWORD, REDIRECT, action, csrf, make_client, make_user, pkce, verify
from .passkey_support import ISSUER, add_passkey, post_json, signed_in_browser, token_of
from .soft_authenticator import SoftAuthenticator, b64url
from .test_code_flow import authorize_url, exchange, location_params


def app_with(settings: Settings, **changes: Any) -> Flask:
    application = create_app(settings.override(issuer=ISSUER, **changes))
    make_user(application, "alice")
    make_user(application, "bob")
    return application


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = app_with(settings)
    yield application
    application.extensions["authserver.db"].dispose()


def set_up_app(browser: FlaskClient) -> pyotp.TOTP:
    """An authenticator app at /account (signed in): its secret, confirmed by a first code."""
    shown = browser.post("/account/totp", data={"csrf_token": token_of(browser)})
    html = shown.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert secret, html
    totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    done = browser.post("/account/totp/confirm", data={"csrf_token": csrf(html), "code": totp.now()})
    assert done.status_code == 200, done.get_data(as_text=True)
    return totp


def enrolled(app: Flask, username: str, *, app_too: bool = True) -> SoftAuthenticator:
    """A user with a passkey (and an authenticator app unless told not)."""
    browser = signed_in_browser(app, username)
    authenticator = SoftAuthenticator(ISSUER)
    assert add_passkey(browser, authenticator, f"{username}'s key").status_code == 200
    if app_too:
        set_up_app(browser)
    return authenticator


def second_step(app: Flask, browser: FlaskClient, username: str) -> tuple[str, str, str]:
    """An authorization's password for `username`: the second step page, and the code verifier
    and client of the request."""
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none")
    verifier, challenge = pkce()
    login = browser.get(authorize_url(client_id, challenge)).get_data(as_text=True)
    page = browser.post(action(login), data={"username": username, "password": PASSWORD,
                                             "csrf_token": csrf(login)})
    return page.get_data(as_text=True), verifier, client_id


def use_passkey(browser: FlaskClient, page: str, authenticator: SoftAuthenticator) -> Any:
    box = re.search(r'data-passkey="second-factor" data-options="([^"]+)"\s+data-verify="([^"]+)"',
                    page)
    assert box, page
    token = csrf(page) if 'name="csrf_token"' in page else re.search(
        r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    options = post_json(browser, box.group(1), {}, token)
    assert options.status_code == 200, options.json
    return post_json(browser, box.group(2), {"credential": authenticator.get(options.json)}, token)


def id_token_after(app: Flask, browser: FlaskClient, answer: Any, client_id: str,
                   verifier: str) -> dict[str, Any]:
    consent = browser.post(answer.json["post"], data={"csrf_token": answer.json["csrf_token"]})
    html = consent.get_data(as_text=True)
    code = location_params(browser.post(action(html), data={
        "decision": "allow", "csrf_token": csrf(html)}))["code"]
    return verify(app, exchange(browser, client_id, code, verifier).json["id_token"], client_id)


def test_after_the_password_a_passkey_is_the_second_factor(app: Flask) -> None:
    key = enrolled(app, "alice")
    browser = app.test_client()
    page, verifier, client_id = second_step(app, browser, "alice")
    assert 'name="code"' in page and 'id="passkey-second-factor"' in page
    answer = use_passkey(browser, page, key)
    assert answer.status_code == 200, answer.json
    claims = id_token_after(app, browser, answer, client_id, verifier)
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"] and claims["acr"] == "phr"


def test_another_users_passkey_is_not_their_second_factor(app: Flask) -> None:
    alice_key = enrolled(app, "alice")
    bob_key = enrolled(app, "bob")
    browser = app.test_client()
    page, _, _ = second_step(app, browser, "bob")
    box = re.search(r'data-options="([^"]+)"\s+data-verify="([^"]+)"', page)
    assert box
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    options = post_json(browser, box.group(1), {}, token).json
    # Only Bob's passkeys are asked for...
    assert [c["id"] for c in options["allowCredentials"]] == [
        b64url(bob_key.credentials[0].credential_id)]
    # ...and Alice's, presented anyway, is refused: nobody is signed in.
    refused = post_json(browser, box.group(2), {"credential": alice_key.get(options)}, token)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_passkey"
    assert browser.get("/account").status_code == 303


def test_the_second_step_needs_a_password_first(app: Flask) -> None:
    enrolled(app, "alice")
    browser = app.test_client()
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none")
    _, challenge = pkce()
    login = browser.get(authorize_url(client_id, challenge)).get_data(as_text=True)
    interaction = re.search(r"/interaction/([^/]+)/login", login).group(1)  # type: ignore[union-attr]
    refused = post_json(browser, f"/interaction/{interaction}/code/passkey/options", {},
                        csrf(login))
    assert refused.status_code == 401 and refused.json["error"] == "login_required"
    account = post_json(browser, "/account/login/code/passkey/options", {}, csrf(login))
    assert account.status_code == 401


def test_a_passkey_alone_meets_required_two_factors(app: Flask, settings: Settings) -> None:
    key = enrolled(app, "alice", app_too=False)  # before two factors were required
    app = create_app(settings.override(issuer=ISSUER, require_mfa=True))  # the same database
    try:
        browser = app.test_client()
        page, verifier, client_id = second_step(app, browser, "alice")
        assert 'id="passkey-second-factor"' in page
        assert 'autocomplete="one-time-code"' not in page  # no app's code: a recovery code
        answer = use_passkey(browser, page, key)
        assert answer.status_code == 200, answer.json
        claims = id_token_after(app, browser, answer, client_id, verifier)
        assert claims["acr"] == "phr" and claims["amr"] == ["pwd", "swk", "user", "mfa"]
    finally:
        app.extensions["authserver.db"].dispose()


def test_the_accounts_own_sign_in_takes_a_passkey_as_second_factor(app: Flask) -> None:
    key = enrolled(app, "alice")
    browser = app.test_client()
    page = sign_in(browser, "alice", PASSWORD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="passkey-second-factor"' in html
    answer = use_passkey(browser, html, key)
    assert answer.status_code == 200 and answer.json == {"location": "/account"}, answer.json
    assert browser.get("/account").status_code == 200


def test_a_passkey_alone_is_asked_for_after_the_password(app: Flask) -> None:
    """A passkey is a second factor (INTERFACE.md): a user whose only one it is does not sign
    in with the password alone, at the account's sign-in or an authorization, where nothing
    asks for two factors; the page asks for the passkey first (no app: no app's code, and
    the recovery codes the first passkey brought below it)."""
    key = enrolled(app, "alice", app_too=False)
    browser = app.test_client()
    held = sign_in(browser, "alice", PASSWORD)
    html = held.get_data(as_text=True)
    assert held.status_code == 200 and 'id="passkey-second-factor"' in html, html
    assert "Confirm it is you with your passkey." in html and "Recovery code" in html
    assert 'autocomplete="one-time-code"' not in html
    assert browser.get("/account").status_code == 303  # the password made no sign-in
    answer = use_passkey(browser, html, key)
    assert answer.status_code == 200 and answer.json == {"location": "/account"}, answer.json
    assert browser.get("/account").status_code == 200

    other = app.test_client()
    page, verifier, client_id = second_step(app, other, "alice")
    assert 'id="passkey-second-factor"' in page and 'autocomplete="one-time-code"' not in page
    assert 'name="decision"' not in page and other.get("/account").status_code == 303
    claims = id_token_after(app, other, use_passkey(other, page, key), client_id, verifier)
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"] and claims["acr"] == "phr"


def test_the_password_grant_refuses_a_user_whose_second_factor_is_a_passkey(app: Flask) -> None:
    client_id, secret = make_client(app, grant_types=["password"], scope="openid")
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD,
            "scope": "openid"}
    assert app.test_client().post("/oauth/token", data=form,
                                  auth=(client_id, secret)).status_code == 200
    enrolled(app, "alice", app_too=False)
    refused = app.test_client().post("/oauth/token", data=form, auth=(client_id, secret))
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant", refused.json
