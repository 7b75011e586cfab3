"""Passkeys over HTTP (the Flask test client) on SQLite and PostgreSQL, with a software
authenticator (tests/soft_authenticator.py): registration, naming and removal at /account,
passwordless sign-in (the account's page and an authorization's, to an ID token's amr), and
every refusal: a replayed answer, another browser's challenge, a counter that goes back,
another user's handle, a removed passkey, malformed JSON; on an IP issuer, none of it."""

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
from .helpers import PASSWORD, REDIRECT, csrf, make_client, make_user, pkce, verify
from .soft_authenticator import SoftAuthenticator, b64url
from .test_code_flow import authorize_url, exchange, location_params

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


def test_a_sign_in_with_a_passkey_ends_in_an_id_token_whose_amr_says_so(
        app: Flask, alice_key: SoftAuthenticator) -> None:
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none")
    verifier, challenge = pkce()
    browser = app.test_client()
    url = authorize_url(client_id, challenge)
    login = browser.get(url).get_data(as_text=True)
    assert 'id="passkey-signin"' in login
    options_path = re.search(r'data-options="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    verify_path = re.search(r'data-verify="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    token = csrf(login)
    options = post_json(browser, options_path, {}, token)
    assert options.json["allowCredentials"] == [] and options.json["rpId"] == "localhost"
    answer = post_json(browser, verify_path, {"credential": alice_key.get(options.json)}, token)
    assert answer.status_code == 200, answer.json
    stale = browser.post(answer.json["post"], data={"csrf_token": token})
    assert stale.status_code == 400  # the sign-in started a new session, with a new token
    consent = browser.post(answer.json["post"], data={"csrf_token": answer.json["csrf_token"]})
    html = consent.get_data(as_text=True)
    assert 'name="decision"' in html
    code = location_params(browser.post(re.search(r'<form method="post" action="([^"]+)"', html)
                                        .group(1), data={"decision": "allow",  # type: ignore[union-attr]
                                                         "csrf_token": csrf(html)}))["code"]
    tokens = exchange(browser, client_id, code, verifier).json
    claims = verify(app, tokens["id_token"], client_id)
    assert claims["amr"] == ["swk", "user", "mfa"]
    with app.extensions["authserver.db"].session() as session:
        from authserver.models import User
        alice = session.query(User).filter_by(username="alice").one()
        assert claims["sub"] == alice.sub


def test_without_user_verification_the_amr_is_swk_alone(app: Flask) -> None:
    authenticator = SoftAuthenticator(ISSUER, user_verified=False)
    assert add_passkey(signed_in_browser(app), authenticator).status_code == 200
    browser = app.test_client()
    answer, _ = passkey_sign_in(browser, authenticator)
    assert answer.status_code == 200
    with app.extensions["authserver.db"].session() as session:
        from authserver.models import LoginSession
        # Two sign-ins in the same second: the password's (no amr kept) and the passkey's.
        assert sorted(s.amr or "" for s in session.query(LoginSession)) == ["", "swk"]


def test_a_replayed_assertion_is_refused(app: Flask, alice_key: SoftAuthenticator) -> None:
    browser = app.test_client()
    answer, assertion = passkey_sign_in(browser, alice_key)
    assert answer.status_code == 200
    again = post_json(browser, "/account/login/passkey", {"credential": assertion},
                      token_of(browser))
    assert again.status_code == 400 and again.json["error"] == "invalid_challenge", again.json
    # With a fresh challenge the old answer does not match it either.
    token = token_of(browser)
    post_json(browser, "/account/login/passkey/options", {}, token)
    stale = post_json(browser, "/account/login/passkey", {"credential": assertion}, token)
    assert stale.status_code == 400 and stale.json["error"] == "invalid_passkey"


def test_another_browsers_challenge_is_refused(app: Flask, alice_key: SoftAuthenticator) -> None:
    asking, answering = app.test_client(), app.test_client()
    options = post_json(asking, "/account/login/passkey/options", {},
                        token_of(asking, "/account/login"))
    assertion = alice_key.get(options.json)
    stolen = post_json(answering, "/account/login/passkey", {"credential": assertion},
                       token_of(answering, "/account/login"))
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_challenge"
    assert answering.get("/account").status_code == 303  # not signed in


def test_a_counter_that_goes_back_is_refused(app: Flask, alice_key: SoftAuthenticator) -> None:
    browser = app.test_client()
    assert passkey_sign_in(browser, alice_key, sign_count=5)[0].status_code == 200
    back, _ = passkey_sign_in(app.test_client(), alice_key, sign_count=3)
    assert back.status_code == 400 and back.json["error"] == "invalid_passkey"
    same, _ = passkey_sign_in(app.test_client(), alice_key, sign_count=5)
    assert same.status_code == 400
    assert passkey_sign_in(app.test_client(), alice_key, sign_count=6)[0].status_code == 200


def test_an_authenticator_without_a_counter_keeps_signing_in(app: Flask) -> None:
    authenticator = SoftAuthenticator(ISSUER)
    assert add_passkey(signed_in_browser(app), authenticator).status_code == 200
    for _ in range(2):
        assert passkey_sign_in(app.test_client(), authenticator, sign_count=0)[0].status_code == 200


def test_one_users_passkey_never_signs_in_another(app: Flask, alice_key: SoftAuthenticator) -> None:
    bob_key = SoftAuthenticator(ISSUER)
    assert add_passkey(signed_in_browser(app, "bob"), bob_key).status_code == 200
    # Alice's credential with Bob's user handle (the handle is not signed): refused.
    browser = app.test_client()
    token = token_of(browser, "/account/login")
    options = post_json(browser, "/account/login/passkey/options", {}, token)
    assertion = alice_key.get(options.json)
    assertion["response"]["userHandle"] = b64url(bob_key.credentials[0].user_handle)
    forged = post_json(browser, "/account/login/passkey", {"credential": assertion}, token)
    assert forged.status_code == 400 and forged.json["error"] == "invalid_passkey"
    # Alice's credential signs in Alice: the server's mapping, not the browser's words.
    answer, _ = passkey_sign_in(browser, alice_key)
    assert answer.status_code == 200
    page = browser.get("/account").get_data(as_text=True)
    assert "alice@example.com" in page
    # Alice's passkey cannot be registered to Bob a second time.
    bob = signed_in_with(app, bob_key)
    token = token_of(bob)
    options = post_json(bob, "/account/passkeys/options", {}, token)
    assert [c["id"] for c in options.json["excludeCredentials"]] == [
        b64url(bob_key.credentials[0].credential_id)]


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


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"credential": 5}',
                                  b'{"credential": {"id": "!!", "response": {}}}',
                                  b'{"credential": {"id": "AAAA", "rawId": "AAAA", "response": '
                                  b'{"clientDataJSON": "e30", "authenticatorData": "", "signature": ""}}}'])
def test_malformed_answers_are_json_errors(app: Flask, alice_key: SoftAuthenticator,
                                           body: bytes) -> None:
    browser = app.test_client()
    token = token_of(browser, "/account/login")
    post_json(browser, "/account/login/passkey/options", {}, token)
    answer = browser.post("/account/login/passkey", data=body,
                          headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.is_json, answer.get_data(as_text=True)
    assert answer.json["error"] in ("invalid_request", "invalid_passkey", "invalid_challenge")
    assert answer.json["error_description"]
    signed_in = signed_in_with(app, alice_key)
    registration = signed_in.post("/account/passkeys", data=body, headers={
        "X-CSRF-Token": token_of(signed_in), "Content-Type": "application/json"})
    assert registration.status_code == 400 and registration.is_json
    assert len(passkey_ids(signed_in)) == 1


def test_the_ceremonies_need_the_pages_csrf_token_and_a_sign_in(app: Flask) -> None:
    browser = app.test_client()
    token_of(browser, "/account/login")
    assert post_json(browser, "/account/login/passkey/options", {}, None).status_code == 403
    assert post_json(browser, "/account/login/passkey/options", {}, "wrong").status_code == 403
    assert post_json(browser, "/account/passkeys/options", {},
                     token_of(browser, "/account/login")).status_code == 401


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
