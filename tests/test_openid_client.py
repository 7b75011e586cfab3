"""The code flow from a certified relying-party library: openid-client v6 on node does discovery,
PKCE, a signed request object with the claims parameter, the code exchange (with its own state,
iss and ID token checks), userinfo, logout, and receives the back-channel logout token, against
`authserver serve`. The user's part (login and consent forms) is played over plain HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from .browser import Browser
from .helpers import csrf, pkce
from .support import ServerProcess
from .two_factor_support import Person, set_up_totp

RP_DIR = Path(__file__).resolve().parent / "rp"
REDIRECT = "http://127.0.0.1:9/rp-callback"
SIGNED_OUT = "http://127.0.0.1:9/rp-signed-out"


def _line(rp: subprocess.Popen[str]) -> dict[str, Any]:
    assert rp.stdout is not None
    line = rp.stdout.readline()
    assert line, rp.stderr.read() if rp.stderr else "no output"
    return dict(json.loads(line))


def _send(rp: subprocess.Popen[str], line: str) -> None:
    assert rp.stdin is not None
    rp.stdin.write(line + "\n")
    rp.stdin.flush()


def test_openid_client_completes_the_code_flow(
    server: ServerProcess, node_rp: Path, tmp_path: Path
) -> None:
    """With a signed request object carrying the claims parameter, then RP-initiated logout,
    and the back-channel logout token that follows it. Dora has an authenticator app: the ID
    token openid-client accepts says acr 2 and amr pwd, otp, mfa."""
    user = server.cli_json("user", "create", "--username", "dora", "--email", "dora@example.com",
                           "--password-stdin", stdin="dora-password\n")
    dora = Person(Browser(server, "dora", "dora-password"))
    set_up_totp(server, dora, "dora-password")
    dora.browser.close()
    server.cli("group", "create", "rp-readers")
    server.cli("group", "add-member", "rp-readers", "dora")
    rp = subprocess.Popen(
        ["node", str(node_rp), server.base_url, REDIRECT, SIGNED_OUT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    browser = httpx.Client(timeout=10)
    try:
        keys = _line(rp)
        (tmp_path / "rp-jwks.json").write_text(json.dumps(keys["jwks"]))
        rp_client = server.cli_json(
            "client", "create", "--name", "openid-client RP", "--grant-type",
            "authorization_code", "--redirect-uri", REDIRECT, "--post-logout-redirect-uri",
            SIGNED_OUT, "--scope", "openid profile email groups",
            "--jwks", str(tmp_path / "rp-jwks.json"),
            "--backchannel-logout-uri", keys["backchannel_logout_uri"],
        )
        _send(rp, rp_client["client_id"])
        _send(rp, rp_client["client_secret"])
        authorization_url = _line(rp)["authorization_url"]
        assert authorization_url.startswith(f"{server.base_url}/oauth/authorize?")
        assert "request=" in authorization_url and "state=" not in authorization_url

        login_page = browser.get(authorization_url)
        code_page = browser.post(Browser.form_url(login_page), data={
            "username": "dora", "password": "dora-password",
            "csrf_token": csrf(login_page.text)})
        assert 'name="code"' in code_page.text, code_page.text
        consent_page = browser.post(Browser.form_url(code_page), data={
            "code": dora.code(), "csrf_token": csrf(code_page.text)})
        assert consent_page.status_code == 200, consent_page.text
        assert "See your email address" in consent_page.text  # asked for by the claims parameter
        assert "See the groups you belong to" in consent_page.text  # the groups scope
        redirected = browser.post(Browser.form_url(consent_page), data={
            "decision": "allow", "csrf_token": csrf(consent_page.text)})
        assert redirected.status_code == 302, redirected.text
        callback = redirected.headers["Location"]
        assert callback.startswith(REDIRECT)

        _send(rp, callback)
        result = _line(rp)
        # RP-initiated logout with the URL openid-client built (id_token_hint, state): back to
        # the registered post-logout URI, and the session is over.
        signed_out = browser.get(result["logout_url"])
        assert signed_out.status_code == 302, signed_out.text
        assert signed_out.headers["Location"] == f"{SIGNED_OUT}?state=signed-out-state"
        _, challenge = pkce()
        again = browser.get(f"{server.base_url}/oauth/authorize", params={
            "response_type": "code", "client_id": rp_client["client_id"], "scope": "openid",
            "redirect_uri": REDIRECT, "code_challenge": challenge,
            "code_challenge_method": "S256"})
        assert 'name="password"' in again.text
        back_channel = _line(rp)  # verified by jose: issuer, audience, typ, signature
        rp.wait(timeout=30)
        assert rp.returncode == 0, rp.stderr.read() if rp.stderr else ""
    finally:
        browser.close()
        if rp.poll() is None:
            rp.kill()
    assert result["claims"]["sub"] == user["sub"]
    assert result["claims"]["iss"] == server.base_url
    assert result["claims"]["acr"] == "2" and result["claims"]["amr"] == ["pwd", "otp", "mfa"]
    assert "email" not in result["claims"]  # the claims parameter asked for it at userinfo only
    assert result["userinfo"]["sub"] == user["sub"]
    assert result["userinfo"]["email"] == "dora@example.com"
    assert result["userinfo"]["preferred_username"] == "dora"
    assert result["userinfo"]["groups"] == ["rp-readers"]  # the groups scope, read by the RP
    assert result["claims"]["groups"] == ["rp-readers"]
    logout_token = back_channel["logout_token"]
    assert back_channel["header"]["typ"] == "logout+jwt"
    assert logout_token["sid"] == back_channel["id_token_sid"] == result["claims"]["sid"]
    assert logout_token["sub"] == user["sub"]
    assert logout_token["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
