"""AUTHSERVER_REQUIRE_MFA holds at /account as at an authorization (README "Two-factor
sign-in"): a one-factor sign-in made elsewhere, a passkey that did not verify the user
(amr ["swk"]) or another OpenID provider's (["fed"]), opens no account page and no account
form until its second factor (or the app's set-up) at /account/login raises it in place.
Over HTTP (the Flask test client) on SQLite and PostgreSQL, with a software authenticator and
a real upstream `authserver serve`."""

# ruff: noqa: F811  (the upstream fixture imported from federation_support is a parameter here)

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from authserver import create_app
from authserver.config import Settings
from authserver.models import LoginSession

from .federation_support import (  # noqa: F401 (the upstream fixture)
    Upstream,
    add_idp,
    loopback_settings,
    start_at_provider,
    upstream,
    upstream_sign_in,
)
from .helpers import csrf, make_client, make_user, pkce
from .passkey_support import ISSUER, add_passkey, passkey_sign_in, post_json, signed_in_browser
from .soft_authenticator import SoftAuthenticator
from .test_code_flow import authorize_url


def amrs(app: Flask) -> list[str | None]:
    with app.extensions["authserver.db"].session() as session:
        return [row.amr for row in session.scalars(select(LoginSession))]


@pytest.fixture
def strict(settings: Settings) -> Iterator[tuple[Flask, SoftAuthenticator]]:
    """Alice's passkey (one that does not verify the user), added while two factors were not
    required; then the server requires them (the same database)."""
    relaxed = create_app(settings.override(issuer=ISSUER))
    make_user(relaxed, "alice")
    key = SoftAuthenticator(ISSUER, user_verified=False)
    assert add_passkey(signed_in_browser(relaxed), key).status_code == 200
    with relaxed.extensions["authserver.db"].session() as session:
        session.execute(delete(LoginSession))  # that sign-in is not the subject
        session.commit()
    relaxed.extensions["authserver.db"].dispose()
    app = create_app(settings.override(issuer=ISSUER, require_mfa=True))
    yield app, key
    app.extensions["authserver.db"].dispose()


def test_a_passkey_sign_in_without_user_verification_is_stepped_up_at_the_account(
        strict: tuple[Flask, SoftAuthenticator]) -> None:
    app, key = strict
    browser = app.test_client()
    answer, _ = passkey_sign_in(browser, key)
    assert answer.status_code == 200 and answer.json == {"location": "/account"}, answer.json
    assert amrs(app) == ["swk"]
    # No account page, no account form, no passkey added on this sign-in.
    shown = browser.get("/account")
    assert shown.status_code == 303 and shown.headers["Location"] == "/account/login"
    step = browser.get("/account/login")
    html = step.get_data(as_text=True)
    assert step.status_code == 200 and 'id="passkey-second-factor"' in html, html
    assert 'action="/account/login"' not in html  # the second step, not the password
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found
    token = found.group(1)
    refused = post_json(browser, "/account/passkeys/options", {}, token)
    assert refused.status_code == 401 and refused.json["error"] == "login_required"
    assert browser.post("/account/password", data={
        "csrf_token": token, "current_password": "x", "new_password": "y" * 12}).status_code == 303
    # The second factor raises this sign-in in place (the same session, now two factors).
    options = post_json(browser, "/account/login/code/passkey/options", {}, token)
    assert options.status_code == 200, options.json
    done = post_json(browser, "/account/login/code/passkey",
                     {"credential": key.get(options.json)}, token)
    assert done.status_code == 200 and done.json == {"location": "/account"}, done.json
    assert amrs(app) == ["swk mfa"]
    assert browser.get("/account").status_code == 200


def test_a_passkey_that_verified_the_user_opens_the_account_at_once(
        strict: tuple[Flask, SoftAuthenticator]) -> None:
    app, key = strict
    key.user_verified = True
    browser = app.test_client()
    answer, _ = passkey_sign_in(browser, key)
    assert answer.status_code == 200
    assert amrs(app) == ["swk user mfa"] and browser.get("/account").status_code == 200


def test_a_federated_sign_in_sets_up_the_app_before_the_account_opens(
        settings: Settings, upstream: Upstream) -> None:
    """The authorization that brought Ada here asked for the app's set-up; she leaves it for
    /account, which asks for the same set-up first."""
    app = create_app(loopback_settings(settings).override(require_mfa=True))
    try:
        add_idp(app, upstream)
        rp, _ = make_client(app, grant_types=["authorization_code"], auth_method="none",
                            redirect_uris=["https://app.example.com/callback"])
        browser: FlaskClient = app.test_client()
        _, challenge = pkce()
        back = browser.get(upstream_sign_in(start_at_provider(browser, authorize_url(rp, challenge))))
        assert back.status_code == 200 and 'id="totp-secret"' in back.get_data(as_text=True)
        assert amrs(app) == ["fed"]
        assert browser.get("/account").status_code == 303
        linking = browser.post("/login/idp/up/link", data={"csrf_token": csrf(
            back.get_data(as_text=True))})
        assert linking.status_code == 400  # no account form on this sign-in
        page = browser.get("/account/login").get_data(as_text=True)
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
        assert secret and 'action="/account/login/set-up"' in page, page
        codes = browser.post("/account/login/set-up", data={
            "csrf_token": csrf(page),
            "code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()})
        assert codes.status_code == 200
        assert len(re.findall(r"<li><code>", codes.get_data(as_text=True))) == 10
        assert amrs(app) == ["fed otp mfa"]
        assert browser.get("/account").status_code == 200
    finally:
        app.extensions["authserver.db"].dispose()
