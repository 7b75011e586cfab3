"""AUTHSERVER_REQUIRE_MFA=1: every client's sign-ins need two factors; a user without one
sets up an authenticator app during the sign-in, and the password grant refuses."""

from __future__ import annotations

import re

import pyotp

from .browser import REDIRECT, RelyingParty, hidden_fields, new_user
from .support import ServerProcess
from .two_factor_support import (
    PASSWORD,
    Person,
    account_sign_in,
    finish,
    post_code,
    signed_in,
    start,
    url,
)

IN_PROCESS = True
SERVER_ENV = {"AUTHSERVER_REQUIRE_MFA": "1"}


def test_every_sign_in_needs_two_factors(server: ServerProcess) -> None:
    app = server.cli_json("client", "create", "--name", "plain", "--grant-type",
                          "authorization_code", "--grant-type", "password",
                          "--redirect-uri", REDIRECT)
    assert app["require_mfa"] is False  # the setting, not the client, asks for it
    rp = RelyingParty(server, app["client_id"], app["client_secret"])
    person = Person(new_user(server, PASSWORD))
    try:
        refused = server.http.post("/oauth/token", auth=(rp.client_id, app["client_secret"]),
                                   data={"grant_type": "password", "scope": "openid",
                                         "username": person.browser.username,
                                         "password": PASSWORD})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        page, verifier = start(server, rp, person)
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
        assert secret and not signed_in(server, person)
        person.totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
        codes = post_code(server, person, page, person.code())
        assert len(re.findall(r"<li><code>", codes.text)) == 10
        claims = finish(server, rp, person, person.http.post(
            url(server, codes), data=hidden_fields(codes.text)), verifier)
        assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
    finally:
        person.browser.close()


def test_the_account_sign_in_needs_two_factors_too(server: ServerProcess) -> None:
    """README: every sign-in needs two factors, the account page's own too: a user without a
    second factor sets up the app after the password, signed in only by its first code."""
    person = Person(new_user(server, PASSWORD))
    try:
        page = account_sign_in(server, person)
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
        assert page.status_code == 200 and secret, page.text
        assert not signed_in(server, person)
        person.totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
        wrong = post_code(server, person, page, "000000" if person.totp.now() != "000000"
                          else "111111")
        assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text
        assert not signed_in(server, person)
        codes = post_code(server, person, wrong, person.code())
        assert codes.status_code == 200 and len(re.findall(r"<li><code>", codes.text)) == 10
        assert signed_in(server, person)
        # Next time the app is asked for, as for any user who has one.
        person.http.cookies.clear()
        again = account_sign_in(server, person)
        assert 'autocomplete="one-time-code"' in again.text and not signed_in(server, person)
        assert post_code(server, person, again, person.code()).status_code == 303
    finally:
        person.browser.close()
