"""AUTHSERVER_REQUIRE_MFA=1: every client's sign-ins need two factors; a user without one
sets up an authenticator app during the sign-in, and the password grant refuses."""

from __future__ import annotations

import re

import pyotp

from .browser import REDIRECT, RelyingParty, hidden_fields, new_user
from .support import ServerProcess
from .test_two_factor import PASSWORD, Person, finish, post_code, signed_in, start, url

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
