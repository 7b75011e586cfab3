"""Chromium clicks through both servers once: our login page (a real `authserver serve` at
localhost), "Sign in with Upstream", the upstream's login and consent (another serve at
127.0.0.1: another host, so each keeps its own session cookie), our consent, the code."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from .federation_support import Upstream
from .helpers import PASSWORD, pkce
from .support import ServerProcess, localhost_server
from .test_federation import upstream  # noqa: F401 (the module's upstream serve)

REDIRECT = "http://127.0.0.1:9/cb"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def ours(tmp_path: Path, key_template: Path) -> Iterator[ServerProcess]:
    with localhost_server(tmp_path, key_template) as server:
        yield server


def test_chromium_signs_in_through_the_upstream_and_gets_a_code(
    upstream: Upstream, ours: ServerProcess, chromium_browser: Any  # noqa: F811
) -> None:
    our_issuer = ours.env["AUTHSERVER_ISSUER"]
    registered = upstream.server.cli_json(
        "client", "create", "--name", "chromium downstream", "--grant-type",
        "authorization_code", "--scope", "openid email profile",
        "--redirect-uri", f"{our_issuer}/login/idp/up/callback")
    ours.cli("idp", "create", "--name", "Upstream", "--slug", "up",
             "--issuer", upstream.server.base_url, "--client-id", registered["client_id"],
             "--client-secret-stdin", stdin=registered["client_secret"] + "\n")
    spa = ours.cli_json(
        "client", "create", "--name", "SPA", "--grant-type", "authorization_code",
        "--redirect-uri", REDIRECT, "--auth-method", "none", "--scope", "openid profile")
    _, challenge = pkce()
    state = secrets.token_urlsafe(12)
    url = f"{our_issuer}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": spa["client_id"], "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": state, "nonce": "n",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    ARTIFACTS.mkdir(exist_ok=True)
    browser = chromium_browser
    page = browser.new_page()
    landed: list[str] = []

    def catch_redirect(route):  # type: ignore[no-untyped-def]
        landed.append(route.request.url)
        route.fulfill(status=200, body="redirected", content_type="text/plain")

    page.route(lambda target: target.startswith(REDIRECT), catch_redirect)
    page.goto(url)
    page.screenshot(path=str(ARTIFACTS / "login-with-provider.png"))
    page.click("text=Sign in with Upstream")
    page.wait_for_url(upstream.server.base_url + "/**")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if page.url.startswith(upstream.server.base_url):  # the upstream's consent, first time
        page.click("button[value=allow]")
    page.wait_for_url(our_issuer + "/**")
    page.click("button[value=allow]")  # our consent
    page.wait_for_url(REDIRECT + "**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(landed[0]).query).items()}
    assert params["state"] == state and params["code"]
    shown = ours.cli_json("user", "show", "ada")
    assert shown["identities"][0]["idp"] == "up"
