"""The code flow in a real browser: headless Chromium (Debian's package) driven by Playwright
against `authserver serve`. The browser logs in, consents and is redirected with code and
state; the code is exchanged with PKCE. Screenshots go to test-artifacts/."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .helpers import pkce
from .support import ServerProcess
from .verifier import IndependentVerifier

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
REDIRECT = "http://127.0.0.1:9/callback"  # nothing listens: the browser's request is intercepted


def test_browser_logs_in_consents_and_the_code_is_exchanged(
    server: ServerProcess, chromium_browser: Any
) -> None:
    spa = server.cli_json(
        "client", "create", "--name", "Browser SPA", "--grant-type", "authorization_code",
        "--redirect-uri", REDIRECT, "--auth-method", "none", "--scope", "openid profile",
    )
    user = server.cli_json("user", "create", "--username", f"carol{secrets.token_hex(3)}",
                           "--password-stdin", stdin="browser-pass-1\n")
    verifier, challenge = pkce()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    url = server.base_url + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": spa["client_id"], "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    ARTIFACTS.mkdir(exist_ok=True)
    landed: list[str] = []

    browser = chromium_browser
    page = browser.new_page()

    def catch_redirect(route):  # type: ignore[no-untyped-def]
        route.fulfill(status=200, body="redirected", content_type="text/plain")

    page.route(lambda url: url.startswith(REDIRECT), catch_redirect)
    page.goto(url)
    page.screenshot(path=str(ARTIFACTS / "login.png"))
    page.fill("input[name=username]", user["username"])
    page.fill("input[name=password]", "browser-pass-1")
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision][value=allow]")
    page.screenshot(path=str(ARTIFACTS / "consent.png"))
    assert "Know who you are" in page.content()
    with page.expect_request(lambda request: request.url.startswith(REDIRECT)) as redirected:
        page.click("button[name=decision][value=allow]")
    landed.append(redirected.value.url)

    assert landed, "the browser was never redirected to the client"
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}
    assert params["state"] == state and params["iss"] == server.base_url
    tokens = server.http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
        "client_id": spa["client_id"], "code_verifier": verifier,
    })
    assert tokens.status_code == 200, tokens.text
    claims = IndependentVerifier(server.http, server.base_url).verify(
        tokens.json()["id_token"], audience=spa["client_id"]
    )
    assert claims["sub"] == user["sub"] and claims["nonce"] == nonce
    assert (ARTIFACTS / "login.png").stat().st_size > 1000
    assert (ARTIFACTS / "consent.png").stat().st_size > 1000


def test_the_shared_chromium_is_started_again_after_it_died(_chromium_process: Any) -> None:
    """The browser tests of a worker share one Chromium (conftest.py): one that died (here:
    closed) is replaced for the next test instead of failing every later one."""
    dead = _chromium_process.get()
    dead.close()
    assert not dead.is_connected()
    again = _chromium_process.get()
    assert again is not dead and again.is_connected()
    page = again.new_page()
    page.set_content("<p>alive</p>")
    assert page.inner_text("p") == "alive"
    page.context.close()
