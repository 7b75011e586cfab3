"""Passkeys in Chromium (Playwright, Debian's package) with a CDP virtual authenticator
(WebAuthn.addVirtualAuthenticator: CTAP2, internal, resident keys, user verification) against
a real `authserver serve` at http://localhost:PORT: added and named at /account, a
passwordless sign-in from the login page to a code and an ID token (amr swk, user, mfa),
removal, another user's sign-in refused, a replayed answer and a counter gone back refused,
and a passkey as the second factor after the password (acr_values=phr). The passkey pages'
layout is in test_passkeys_chromium_pages.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .helpers import pkce
from .passkey_chromium_support import (  # noqa: F401 (the `server` fixture)
    ARTIFACTS,
    REDIRECT,
    add_passkey,
    authorize_url,
    issuer,
    new_user,
    passkey_server,
    password_sign_in,
    password_step_asking_for_a_passkey,
    with_authenticator,
)
from .support import ServerProcess


def catch_redirects(page: Any) -> list[str]:
    landed: list[str] = []

    def fulfil(route: Any) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, body="redirected", content_type="text/plain")

    page.route(lambda target: target.startswith(REDIRECT), fulfil)
    return landed


def id_token(server: ServerProcess, client_id: str, code: str, verifier: str) -> dict[str, Any]:
    tokens = server.http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": client_id, "code_verifier": verifier}).json()
    keys = jwt.PyJWKClient(server.base_url + "/.well-known/jwks.json")
    token = tokens["id_token"]
    return jwt.decode(token, keys.get_signing_key_from_jwt(token).key,
                      algorithms=["RS256", "PS256", "ES256", "EdDSA"], audience=client_id,
                      issuer=issuer(server))


def test_a_passkey_added_at_the_account_signs_in_from_the_login_page_and_can_be_removed(
        server: ServerProcess, chromium_browser: Any) -> None:
    username, sub = new_user(server)
    _, other_sub = new_user(server)
    spa = server.cli_json("client", "create", "--name", "Passkey SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = chromium_browser
    context = browser.new_context()
    page = context.new_page()
    cdp, authenticator = with_authenticator(page)
    # Registration and naming at /account.
    password_sign_in(page, server, username)
    add_passkey(page, "Chromium key")
    passkey_id = page.get_attribute("form.rename input[name=passkey]", "value")
    page.fill(f"#passkey-name-{passkey_id}", "Renamed key")
    page.click("form.rename button[type=submit]")
    page.wait_for_selector("text=The passkey was renamed.")
    assert page.input_value(f"#passkey-name-{passkey_id}") == "Renamed key"
    [stored] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"

    # A passwordless sign-in from the login page: a code, and an ID token that says how.
    context.clear_cookies()
    landed = catch_redirects(page)
    verifier, challenge = pkce()
    page.goto(authorize_url(server, spa["client_id"], challenge))
    verify_requests: list[Any] = []
    page.on("request", lambda r: verify_requests.append(r) if r.url.endswith("/passkey") else None)
    page.click("#passkey-signin")
    page.wait_for_selector("button[value=allow]")
    page.click("button[value=allow]")
    page.wait_for_url(REDIRECT + "**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}
    claims = id_token(server, spa["client_id"], params["code"], verifier)
    assert claims["sub"] == sub
    assert claims["amr"] == ["swk", "user", "mfa"]
    assert claims["acr"] == "phr"

    # The same answer again, from this browser and from another: refused.
    [sent] = verify_requests
    again = page.request.post(sent.url, data=sent.post_data, headers={
        "Content-Type": "application/json", "X-CSRF-Token": sent.headers["x-csrf-token"]})
    assert again.status in (400, 403)  # the interaction ended, the session is a new one
    page.goto(issuer(server) + "/account")
    replayed = page.request.post(issuer(server) + "/account/login/passkey",
                                 data=sent.post_data, headers={
                                     "Content-Type": "application/json",
                                     "X-CSRF-Token": page.get_attribute(
                                         "input[name=csrf_token]", "value")})
    assert replayed.status == 400 and replayed.json()["error"] == "invalid_challenge"
    elsewhere = browser.new_context()
    stranger = elsewhere.new_page()
    stranger.goto(issuer(server) + "/account/login")
    token = stranger.get_attribute("input[name=csrf_token]", "value")
    stolen = stranger.request.post(issuer(server) + "/account/login/passkey",
                                   data=sent.post_data, headers={
                                       "Content-Type": "application/json",
                                       "X-CSRF-Token": token})
    assert stolen.status == 400 and stolen.json()["error"] == "invalid_challenge"
    malformed = stranger.request.post(issuer(server) + "/account/login/passkey",
                                      data="{nope", headers={
                                          "Content-Type": "application/json",
                                          "X-CSRF-Token": token})
    assert malformed.status == 400 and malformed.json()["error"] == "invalid_request"
    elsewhere.close()

    # A request for another end-user: this passkey is not theirs, so nobody is signed in.
    context.clear_cookies()
    _, challenge = pkce()
    url = authorize_url(server, spa["client_id"], challenge, claims=json.dumps(
        {"id_token": {"sub": {"value": other_sub}}}))
    page.goto(url)
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "another account" in page.inner_text("#passkey-signin-error")
    assert "Sign in" in page.inner_text("h1")

    # The authenticator's counter goes back (a cloned key): refused.
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator,
                                           "credentialId": stored["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **{k: stored[k] for k in ("credentialId", "isResidentCredential", "rpId",
                                  "privateKey", "userHandle")}, "signCount": 0}})
    context.clear_cookies()
    page.goto(issuer(server) + "/account/login")
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "not accepted" in page.inner_text("#passkey-signin-error")

    # Removed at /account (signed in with the password and the real key, its counter
    # ahead again): it no longer signs in.
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator,
                                           "credentialId": stored["credentialId"]})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **{k: stored[k] for k in ("credentialId", "isResidentCredential", "rpId",
                                  "privateKey", "userHandle")}, "signCount": 1000}})
    password_sign_in(page, server, username)
    page.click("form[action$='/passkeys/remove'] button[type=submit]")
    page.wait_for_selector("text=The passkey was removed.")
    assert page.locator("form.rename").count() == 0
    context.clear_cookies()
    page.goto(issuer(server) + "/account/login")
    page.click("#passkey-signin")
    page.wait_for_selector("#passkey-signin-error:not([hidden])")
    assert "not accepted" in page.inner_text("#passkey-signin-error")


def test_a_passkey_is_the_second_factor_after_the_password(
        server: ServerProcess, chromium_browser: Any) -> None:
    """acr_values=phr asks the user who can reach it for more than the password: the second
    step offers the passkey, and the ID token says both (amr pwd, swk, user, mfa; acr phr)."""
    username, sub = new_user(server)
    spa = server.cli_json("client", "create", "--name", "Second factor SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    browser = chromium_browser
    context = browser.new_context()
    page = context.new_page()
    with_authenticator(page)
    password_sign_in(page, server, username)
    add_passkey(page, "Second factor key")
    context.clear_cookies()
    landed = catch_redirects(page)
    verifier = password_step_asking_for_a_passkey(page, server, spa["client_id"], username)
    assert page.locator("input[autocomplete=one-time-code]").count() == 0  # no app
    page.screenshot(path=str(ARTIFACTS / "second-factor-passkey.png"), full_page=True)
    page.click("#passkey-second-factor")
    page.wait_for_selector("button[value=allow]")
    page.click("button[value=allow]")
    page.wait_for_url(REDIRECT + "**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}
    claims = id_token(server, spa["client_id"], params["code"], verifier)
    assert claims["sub"] == sub
    assert claims["amr"] == ["pwd", "swk", "user", "mfa"] and claims["acr"] == "phr"
