"""openid-client (node, tests/rp/rp.mjs) accepts the ID token of a passwordless passkey
sign-in: acr phr, amr swk, user, mfa. The server is `authserver serve` at http://localhost:PORT
(passkeys need a host name); the person's part is played over HTTP with a software
authenticator (tests/soft_authenticator.py)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .browser import Browser
from .helpers import PASSWORD, csrf
from .soft_authenticator import SoftAuthenticator
from .support import ServerProcess, localhost_server
from .test_openid_client import REDIRECT, SIGNED_OUT, _line, _send


@pytest.fixture(scope="module")
def rp_server(tmp_path_factory: pytest.TempPathFactory,
              key_template: Path) -> Iterator[ServerProcess]:
    with localhost_server(tmp_path_factory.mktemp("passkeys-rp"), key_template) as server:
        yield server


def _ceremony(browser: httpx.Client, page: str, base: str, authenticator: SoftAuthenticator,
              create: bool) -> dict[str, str]:
    """The page's passkey button, as static/passkeys.js plays it."""
    options_path = re.search(r'data-options="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    verify_path = re.search(r'data-verify="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    headers = {"X-CSRF-Token": csrf(page)}
    options = browser.post(base + options_path, json={}, headers=headers).json()
    credential = authenticator.create(options) if create else authenticator.get(options)
    answer = browser.post(base + verify_path, json={"credential": credential}, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_openid_client_accepts_a_passkey_sign_ins_id_token(
        rp_server: ServerProcess, node_rp: Path, tmp_path: Path) -> None:
    server, issuer = rp_server, rp_server.env["AUTHSERVER_ISSUER"]
    user = server.cli_json("user", "create", "--username", "pia", "--email", "pia@example.com",
                           "--password-stdin", stdin=PASSWORD + "\n")
    server.cli("group", "create", "rp-readers")
    server.cli("group", "add-member", "rp-readers", "pia")
    authenticator = SoftAuthenticator(issuer)
    with httpx.Client(timeout=10) as setup:  # Pia adds a passkey at /account
        login = setup.get(issuer + "/account/login").text
        setup.post(issuer + "/account/login", data={
            "username": "pia", "password": PASSWORD, "csrf_token": csrf(login)})
        _ceremony(setup, setup.get(issuer + "/account").text, issuer, authenticator, create=True)

    rp = subprocess.Popen(["node", str(node_rp), issuer, REDIRECT, SIGNED_OUT],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    browser = httpx.Client(timeout=10)
    try:
        keys = _line(rp)
        (tmp_path / "rp-jwks.json").write_text(json.dumps(keys["jwks"]))
        rp_client = server.cli_json(
            "client", "create", "--name", "openid-client RP", "--grant-type",
            "authorization_code", "--redirect-uri", REDIRECT, "--post-logout-redirect-uri",
            SIGNED_OUT, "--scope", "openid profile email groups",
            "--jwks", str(tmp_path / "rp-jwks.json"),
            "--backchannel-logout-uri", keys["backchannel_logout_uri"])
        _send(rp, rp_client["client_id"])
        _send(rp, rp_client["client_secret"])
        authorization_url = _line(rp)["authorization_url"]
        login_page = browser.get(authorization_url)
        assert 'id="passkey-signin"' in login_page.text, login_page.text
        answer = _ceremony(browser, login_page.text, issuer, authenticator, create=False)
        consent_page = browser.post(issuer + answer["post"],
                                    data={"csrf_token": answer["csrf_token"]})
        assert 'name="decision"' in consent_page.text, consent_page.text
        redirected = browser.post(Browser.form_url(consent_page), data={
            "decision": "allow", "csrf_token": csrf(consent_page.text)})
        assert redirected.status_code == 302, redirected.text
        _send(rp, redirected.headers["Location"])
        result = _line(rp)
        assert browser.get(result["logout_url"]).status_code == 302
        _line(rp)  # the back-channel logout token
        rp.wait(timeout=30)
        assert rp.returncode == 0, rp.stderr.read() if rp.stderr else ""
    finally:
        browser.close()
        if rp.poll() is None:
            rp.kill()
    assert result["claims"]["sub"] == user["sub"] and result["claims"]["iss"] == issuer
    assert result["claims"]["acr"] == "phr"
    assert result["claims"]["amr"] == ["swk", "user", "mfa"]
