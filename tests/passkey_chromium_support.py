"""The passkey Chromium tests' server and steps: a real `authserver serve` at
http://localhost:PORT (a passkey's relying party is a host name, not an IP), a new user, a CDP
virtual authenticator (CTAP2, internal, resident keys, user verification), the sign-in with the
password at /account, adding a passkey there, and an authorization request; shared by the
sign-in flows (test_passkeys_chromium.py) and the pages' layout (test_passkeys_chromium_pages.py).
A module imports the fixture as `passkey_server` (`# noqa: F401`); its tests ask for `server`."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from .helpers import PASSWORD, pkce
from .support import ServerProcess, localhost_server

REDIRECT = "http://127.0.0.1:9/cb"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "passkeys"
AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True}


@pytest.fixture(scope="module", name="server")
def passkey_server(tmp_path_factory: pytest.TempPathFactory,
                   key_template: Path) -> Iterator[ServerProcess]:
    with localhost_server(tmp_path_factory.mktemp("passkeys"), key_template) as server:
        yield server


def issuer(server: ServerProcess) -> str:
    return server.env["AUTHSERVER_ISSUER"]


def new_user(server: ServerProcess) -> tuple[str, str]:
    """A new user: (username, sub)."""
    username = f"pk{secrets.token_hex(4)}"
    created = server.cli_json("user", "create", "--username", username, "--password-stdin",
                              stdin=PASSWORD + "\n")
    return username, created["sub"]


def with_authenticator(page: Any) -> tuple[Any, str]:
    """A virtual authenticator for this page: the CDP session and its id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def password_sign_in(page: Any, server: ServerProcess, username: str) -> None:
    """The account's sign-in with the password, then the passkey when the user has one (a
    second factor: the password alone does not sign them in)."""
    page.goto(issuer(server) + "/account/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#passkeys-h, #passkey-second-factor")
    if page.locator("#passkey-second-factor").count():
        # No app: the passkey first, no app's code (a recovery code's field below).
        assert page.locator("input[autocomplete=one-time-code]").count() == 0
        page.click("#passkey-second-factor")
        page.wait_for_selector("#passkeys-h")


def add_passkey(page: Any, name: str, on_codes: Callable[[Any], None] | None = None) -> None:
    """Adds a passkey at /account; the first one's recovery codes, shown in place of the page
    (`on_codes` looks at them), are acknowledged."""
    page.fill("#passkey-new-name", name)
    page.click("#passkey-add")
    page.wait_for_function("name => { const codes = document.getElementById('passkey-recovery-"
                           "codes'); return (codes && !codes.hidden) || "
                           "document.body.innerText.includes('“' + name + '”'); }", arg=name)
    if page.locator("#passkey-recovery-codes:not([hidden])").count():
        assert page.locator("#passkey-recovery-codes li code").count() == 10
        assert page.locator("#passkeys-h").is_hidden()  # the codes alone
        if on_codes is not None:
            on_codes(page)
        page.click("#passkey-recovery-codes a.button")
    page.wait_for_selector(f"text=“{name}”")  # the notice that it was added


def authorize_url(server: ServerProcess, client_id: str, challenge: str, **extra: str) -> str:
    return issuer(server) + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256", **extra})


def password_step_asking_for_a_passkey(page: Any, server: ServerProcess, client_id: str,
                                       username: str) -> str:
    """An authorization request for a phishing-resistant sign-in (acr_values=phr), its
    password typed: the page is left at the second step that asks for the passkey. Returns
    the request's PKCE verifier."""
    verifier, challenge = pkce()
    page.goto(authorize_url(server, client_id, challenge, acr_values="phr"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#passkey-second-factor")
    return verifier
