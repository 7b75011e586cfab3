"""The code flow from a certified relying-party library: openid-client v6 on node does discovery,
PKCE, the code exchange (with its own state, iss and ID token checks) and userinfo against
`authserver serve`. The user's part (login and consent forms) is played over plain HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from .helpers import csrf
from .support import ServerProcess

RP_DIR = Path(__file__).resolve().parent / "rp"
REDIRECT = "http://127.0.0.1:9/rp-callback"
SIGNED_OUT = "http://127.0.0.1:9/rp-signed-out"


@pytest.fixture(scope="module")
def node_rp() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the relying-party test")
        pytest.skip("node/npm not installed")
    if not (RP_DIR / "node_modules" / "openid-client").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RP_DIR, check=True,
                       capture_output=True, timeout=300)
    return RP_DIR / "rp.mjs"


def test_openid_client_completes_the_code_flow(server: ServerProcess, node_rp: Path) -> None:
    rp_client = server.cli_json(
        "client", "create", "--name", "openid-client RP", "--grant-type", "authorization_code",
        "--redirect-uri", REDIRECT, "--post-logout-redirect-uri", SIGNED_OUT,
        "--auth-method", "none", "--scope", "openid profile email",
    )
    user = server.cli_json("user", "create", "--username", "dora", "--email", "dora@example.com",
                           "--password-stdin", stdin="dora-password\n")
    rp = subprocess.Popen(
        ["node", str(node_rp), server.base_url, rp_client["client_id"], REDIRECT, SIGNED_OUT],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    browser = httpx.Client(timeout=10)
    try:
        assert rp.stdout is not None and rp.stdin is not None
        first = rp.stdout.readline()
        assert first, rp.stderr.read() if rp.stderr else "no output"
        authorization_url = json.loads(first)["authorization_url"]
        assert authorization_url.startswith(f"{server.base_url}/oauth/authorize?")

        login_page = browser.get(authorization_url)
        consent_page = browser.post(authorization_url, data={
            "username": "dora", "password": "dora-password",
            "csrf_token": csrf(login_page.text)})
        assert consent_page.status_code == 200, consent_page.text
        redirected = browser.post(authorization_url, data={
            "decision": "allow", "csrf_token": csrf(consent_page.text)})
        assert redirected.status_code == 302
        callback = redirected.headers["Location"]
        assert callback.startswith(REDIRECT)

        stdout, stderr = rp.communicate(callback + "\n", timeout=60)
        assert rp.returncode == 0, stderr
        result = json.loads(stdout.strip().splitlines()[-1])
        # RP-initiated logout with the URL openid-client built (id_token_hint, state): back to
        # the registered post-logout URI, and the session is over.
        signed_out = browser.get(result["logout_url"])
        assert signed_out.status_code == 302, signed_out.text
        assert signed_out.headers["Location"] == f"{SIGNED_OUT}?state=signed-out-state"
        fresh = authorization_url.replace("nonce=", "nonce=fresh", 1)  # a nonce is used once
        assert 'name="password"' in browser.get(fresh).text
    finally:
        browser.close()
        if rp.poll() is None:
            rp.kill()
    assert result["claims"]["sub"] == user["sub"]
    assert result["claims"]["iss"] == server.base_url
    assert result["userinfo"]["sub"] == user["sub"]
    assert result["userinfo"]["email"] == "dora@example.com"
    assert result["userinfo"]["preferred_username"] == "dora"
