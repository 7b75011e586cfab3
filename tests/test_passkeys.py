# ruff: noqa: F811  (the fixtures imported from passkey_support are parameters here)
"""Passkeys at /account over HTTP (the Flask test client) on SQLite and PostgreSQL, with a
software authenticator (tests/soft_authenticator.py): registration, naming, listing and
removal, a registration checked and never half done, the last way in kept for a user without
a password; on an IP issuer, none of it. The sign-in and its refusals are in
test_passkeys_sign_in.py."""

from __future__ import annotations

from flask import Flask

from authserver import create_app
from authserver.config import Settings

from .helpers import make_user
from .passkey_support import (  # noqa: F401 (the app and alice_key fixtures)
    ISSUER,
    alice_key,
    app,
    passkey_ids,
    passkey_sign_in,
    post_json,
    signed_in_browser,
    signed_in_with,
    token_of,
)
from .soft_authenticator import SoftAuthenticator


def test_a_passkey_is_added_named_and_listed_and_signs_in_without_a_password(
        app: Flask, alice_key: SoftAuthenticator) -> None:
    browser = app.test_client()
    answer, _ = passkey_sign_in(browser, alice_key)
    assert answer.status_code == 200 and answer.json == {"location": "/account"}, answer.json
    page = browser.get("/account").get_data(as_text=True)
    assert "alice" in page and "Laptop" in page and 'id="passkey-add"' in page
    [passkey] = passkey_ids(browser)
    renamed = browser.post("/account/passkeys/rename", data={
        "passkey": passkey, "name": "Work laptop", "csrf_token": token_of(browser)})
    assert renamed.status_code == 303
    assert "Work laptop" in browser.get("/account").get_data(as_text=True)
    empty = browser.post("/account/passkeys/rename", data={
        "passkey": passkey, "name": "  ", "csrf_token": token_of(browser)})
    assert empty.status_code == 400 and "Give the passkey a name." in empty.get_data(as_text=True)
    # Bob cannot rename or remove Alice's passkey.
    bob = signed_in_browser(app, "bob")
    for path in ("/account/passkeys/rename", "/account/passkeys/remove"):
        assert bob.post(path, data={"passkey": passkey, "name": "mine",
                                    "csrf_token": token_of(bob)}).status_code == 404
    assert "Work laptop" in browser.get("/account").get_data(as_text=True)


def test_a_removed_passkey_no_longer_signs_in(app: Flask, alice_key: SoftAuthenticator) -> None:
    browser = signed_in_with(app, alice_key)
    [passkey] = passkey_ids(browser)
    removed = browser.post("/account/passkeys/remove", data={
        "passkey": passkey, "csrf_token": token_of(browser)})
    assert removed.status_code == 303 and passkey_ids(browser) == []
    answer, _ = passkey_sign_in(app.test_client(), alice_key)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_passkey"


def test_a_registration_is_checked_and_never_half_done(app: Flask) -> None:
    browser = signed_in_browser(app)
    token = token_of(browser)
    elsewhere = SoftAuthenticator("http://evil.localhost:5000")
    options = post_json(browser, "/account/passkeys/options", {}, token)
    wrong_origin = post_json(browser, "/account/passkeys",
                             {"credential": elsewhere.create(options.json)}, token)
    assert wrong_origin.status_code == 400 and wrong_origin.json["error"] == "invalid_passkey"
    authenticator = SoftAuthenticator(ISSUER)
    options = post_json(browser, "/account/passkeys/options", {}, token)
    created = authenticator.create(options.json)
    assert post_json(browser, "/account/passkeys", {"credential": created}, token).status_code == 200
    replayed = post_json(browser, "/account/passkeys", {"credential": created}, token)
    assert replayed.status_code == 400 and replayed.json["error"] == "invalid_challenge"
    assert len(passkey_ids(browser)) == 1
    assert "Passkey 1" in browser.get("/account").get_data(as_text=True)  # the default name


def test_an_ip_issuer_says_why_passkeys_are_unavailable(settings: Settings) -> None:
    app = create_app(settings.override(issuer="http://127.0.0.1:5000"))
    make_user(app, "alice")
    browser = signed_in_browser(app)
    page = browser.get("/account")
    html = page.get_data(as_text=True)
    assert 'id="passkeys-unavailable"' in html and "http://localhost:5000" in html
    assert 'id="passkey-add"' not in html and "script-src" not in page.headers["Content-Security-Policy"]
    login = app.test_client().get("/account/login")
    assert 'id="passkey-signin"' not in login.get_data(as_text=True)
    refused = post_json(browser, "/account/passkeys/options", {}, token_of(browser))
    assert refused.status_code == 404 and refused.json["error"] == "passkeys_unavailable"
    app.extensions["authserver.db"].dispose()


def test_without_a_password_the_last_way_in_is_kept(app: Flask, alice_key: SoftAuthenticator) -> None:
    """Someone who signs in through a provider (no password) and has a passkey may unlink the
    provider (the passkey signs them in), but then not remove their last passkey."""
    from authserver.models import IdentityProvider, LinkedIdentity, User

    with app.extensions["authserver.db"].session() as session, session.begin():
        alice = session.query(User).filter_by(username="alice").one()
        idp = IdentityProvider(slug="up", name="Upstream", issuer="https://up.example",
                               client_id="c", client_secret="s", scope="openid", discovery={})
        session.add(idp)
        session.flush()
        session.add(LinkedIdentity(idp_id=idp.id, user_id=alice.id, sub="alice-up"))
        alice.password_hash = ""  # as a user made by a provider's sign-in
    browser = app.test_client()
    assert passkey_sign_in(browser, alice_key)[0].status_code == 200
    assert 'action="/login/idp/up/unlink"' in browser.get("/account").get_data(as_text=True)
    unlinked = browser.post("/login/idp/up/unlink", data={"csrf_token": token_of(browser)})
    assert unlinked.status_code == 303
    [passkey] = passkey_ids(browser)
    kept = browser.post("/account/passkeys/remove", data={
        "passkey": passkey, "csrf_token": token_of(browser)})
    assert kept.status_code == 409 and "only way to sign in" in kept.get_data(as_text=True)
    assert passkey_ids(browser) == [passkey]
