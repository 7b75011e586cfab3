# ruff: noqa: F811  (the fixtures imported from passkey_support are parameters here)
"""Passwordless sign-in with a passkey over HTTP (the Flask test client) on SQLite and
PostgreSQL, with a software authenticator (tests/soft_authenticator.py): at the account's page
and an authorization's, to an ID token's amr; and every refusal: a replayed answer, another
browser's challenge, a counter that goes back, another user's handle, malformed JSON, a missing
CSRF token or sign-in. Adding and removing passkeys at /account is in test_passkeys.py."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from .helpers import REDIRECT, csrf, make_client, pkce, verify
from .passkey_support import (  # noqa: F401 (fixtures)
    ISSUER,
    add_passkey,
    alice_key,
    app,
    passkey_ids,
    passkey_sign_in,
    post_json,
    signed_in_browser,
    signed_in_with,
    token_of,
)
from .soft_authenticator import SoftAuthenticator, b64url
from .test_code_flow import authorize_url, exchange, location_params


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

