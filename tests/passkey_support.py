"""The HTTP passkey tests' app and steps (the Flask test client and the software authenticator
of tests/soft_authenticator.py): an app at http://localhost:5000 with Alice and Bob, a signed-in
browser, the page's CSRF token, adding a passkey at /account and signing in with one; shared by
the account tests (test_passkeys.py) and the sign-in tests (test_passkeys_sign_in.py). A module
imports the fixtures `app` and `alice_key` (`# noqa: F401`) and asks for them by name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

from .account_helpers import sign_in
from .helpers import PASSWORD, csrf, make_user
from .soft_authenticator import SoftAuthenticator

ISSUER = "http://localhost:5000"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings.override(issuer=ISSUER))
    make_user(application, "alice", email="alice@example.com")
    make_user(application, "bob")
    yield application
    application.extensions["authserver.db"].dispose()


def token_of(browser: FlaskClient, path: str = "/account") -> str:
    return csrf(browser.get(path).get_data(as_text=True))


def post_json(browser: FlaskClient, path: str, body: Any, token: str | None) -> Any:
    headers = {"X-CSRF-Token": token} if token else {}
    return browser.post(path, json=body, headers=headers)


def signed_in_browser(app: Flask, username: str = "alice") -> FlaskClient:
    browser = app.test_client()
    assert sign_in(browser, username, PASSWORD).status_code == 303
    return browser


def add_passkey(browser: FlaskClient, authenticator: SoftAuthenticator, name: str = "") -> Any:
    token = token_of(browser)
    options = post_json(browser, "/account/passkeys/options", {}, token)
    assert options.status_code == 200, options.json
    return post_json(browser, "/account/passkeys",
                     {"credential": authenticator.create(options.json), "name": name}, token)


def passkey_ids(browser: FlaskClient) -> list[str]:
    found = re.findall(r'name="passkey" value="(\d+)"', browser.get("/account").get_data(as_text=True))
    return sorted(set(found))  # each passkey has two forms: rename and remove


def passkey_sign_in(browser: FlaskClient, authenticator: SoftAuthenticator,
                    **get: Any) -> tuple[Any, dict[str, Any]]:
    """The account sign-in page's passkey ceremony; the answer, and the assertion sent."""
    token = token_of(browser, "/account/login")
    options = post_json(browser, "/account/login/passkey/options", {}, token)
    assert options.status_code == 200, options.json
    assertion = authenticator.get(options.json, **get)
    return post_json(browser, "/account/login/passkey", {"credential": assertion}, token), assertion


def signed_in_with(app: Flask, authenticator: SoftAuthenticator) -> FlaskClient:
    """A browser signed in with the passkey: its holder's password alone no longer signs in."""
    browser = app.test_client()
    answer, _ = passkey_sign_in(browser, authenticator)
    assert answer.status_code == 200, answer.json
    return browser


@pytest.fixture
def alice_key(app: Flask) -> SoftAuthenticator:
    authenticator = SoftAuthenticator(ISSUER)
    added = add_passkey(signed_in_browser(app), authenticator, "Laptop")
    assert added.status_code == 200 and added.json["location"] == "/account", added.json
    assert len(added.json["recovery_codes"]) == 10  # her first second factor
    return authenticator

