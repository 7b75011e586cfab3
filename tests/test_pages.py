"""Every page a person sees, in Chromium, light and dark, at a phone's width (390 px) and a
desktop's (1280 px): no sideways scroll, and axe-core (the accessibility engine, from npm,
injected by Playwright) finds no WCAG 2 A/AA violation, colour contrast included. Pages are
HTML for a browser and JSON for a program. Screenshots go to test-artifacts/pages/."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from authserver.web.wording import wait_words

from .conftest import RP_DIR
from .helpers import pkce
from .support import ServerProcess, copy_keys, start_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "pages"
AXE = RP_DIR / "node_modules" / "axe-core" / "axe.min.js"
REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "pages-password-1"
SCHEMES = ("light", "dark")
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]}});
  return result.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm not installed")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RP_DIR, check=True,
                       capture_output=True, timeout=300)
    return AXE


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory: pytest.TempPathFactory,
                 key_template: Path) -> Iterator[ServerProcess]:
    """One `serve` on SQLite: the pages are the same on either database."""
    workdir = tmp_path_factory.mktemp("pages")
    server = start_server(workdir, database_url=f"sqlite:///{workdir / 'pages.db'}",
                          keys_dir=copy_keys(key_template, workdir), workers=1)
    yield server
    server.stop()


def _check(page: Any, name: str) -> list[str]:
    """This page's problems at a phone's width, light and dark (the same page, its media
    emulated: no second load): sideways scroll, then axe's violations; and its screenshots at
    both widths in both schemes."""
    problems = []
    page.add_script_tag(path=str(AXE))
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"{name}-390-{scheme}.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > 390:
            problems.append(f"{name} at 390 px ({scheme}) is {wide} px wide")
        problems += [f"{name} ({scheme}): {found}" for found in page.evaluate(AXE_RUN)]
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(ARTIFACTS / f"{name}-1280-{scheme}.png"))
        page.set_viewport_size({"width": 390, "height": 800})
    return problems


def _next_step(last: int) -> int:
    """The time step of the next code to type: after the last one used (a code is single
    use), within the server's now ±1 (operations/mfa.py). The steps before the next one stop
    being taken at the 30 s boundary, so they are used only with seconds to spare; a wait
    only when no step is left (the original walk waited up to 30 s a sign-in)."""
    while True:
        now = time.time()
        current, left = int(now) // 30, 30 - now % 30
        for step in (current - 1, current, current + 1):
            if step > last and (step == current + 1 or left > 5):
                return step
        time.sleep(left)


def test_every_page_fits_a_phone_and_passes_axe_light_and_dark(
    pages_server: ServerProcess, chromium_browser: Any, axe_script: Path
) -> None:
    server = pages_server
    app = server.cli_json("client", "create", "--name", "Pages App", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    username = f"page{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", username, "--password-stdin",
                    stdin=PASSWORD + "\n")
    _, challenge = pkce()
    authorize = server.base_url + "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    browser = chromium_browser
    # bypass_csp: our pages allow no script at all, and axe is one
    context = browser.new_context(viewport={"width": 390, "height": 800},
                                  bypass_csp=True)
    page = context.new_page()
    page.route(lambda url: url.startswith(REDIRECT),
               lambda route: route.fulfill(status=200, body="back at the app"))

    def visit(name: str, url: str | None = None) -> None:
        if url is not None:
            page.goto(url)
        problems.extend(_check(page, name))

    visit("home", server.base_url + "/")
    visit("not-found", server.base_url + "/no/such/page")
    visit("bad-request", server.base_url + "/oauth/authorize?client_id=nobody")
    visit("device", server.base_url + "/device")
    visit("login", authorize)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "a wrong password")
    page.click("button[type=submit]")
    visit("login-error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision]")
    visit("consent")
    with page.expect_request(lambda request: request.url.startswith(REDIRECT)):
        page.click("button[name=decision][value=allow]")
    page = context.new_page()  # the same browser (cookies), clear of the app's redirect
    _two_factor_pages(page, visit, server, browser, authorize, username)
    visit("logout", server.base_url + "/oauth/logout")
    assert username in page.content()
    page.click("button[name=cancel]")
    visit("logout-cancelled")
    page.goto(server.base_url + "/oauth/logout")
    page.click("button[name=confirm]")
    visit("signed-out")
    context.close()
    assert problems == []


def _two_factor_pages(page: Any, visit: Any, server: ServerProcess, browser: Any,
                      authorize: str, username: str) -> None:
    """The authenticator app's set-up at /account, the recovery codes, the account's
    two-factor block, then a new browser's second step, in English (answered with the app's
    next code) and in Korean (with a recovery code: a third code of the app could mean
    waiting up to 30 s for its time step, and in three of four CI runs it did)."""
    import pyotp

    page.goto(server.base_url + "/account")
    page.click("#totp-add")
    visit("totp-setup")
    secret = pyotp.TOTP(page.inner_text("#totp-secret").replace(" ", ""))
    page.fill("input[name=code]", "000000" if secret.now() != "000000" else "111111")
    page.click("button[type=submit]")
    visit("totp-setup-error")
    step = _next_step(-1)
    page.fill("input[name=code]", secret.generate_otp(step))
    page.click("button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    recovery = page.locator("#recovery-codes code").all_inner_texts()
    visit("recovery-codes")
    visit("account-two-factor", server.base_url + "/account")
    for locale in ("en-US", "ko-KR"):
        other = browser.new_context(viewport={"width": 390, "height": 800},
                                    bypass_csp=True, locale=locale)
        second = other.new_page()
        second.route(lambda url: url.startswith(REDIRECT),
                     lambda route: route.fulfill(status=200, body="back at the app"))
        second.goto(authorize)
        second.fill("input[name=username]", username)
        second.fill("input[name=password]", PASSWORD)
        second.click("button[type=submit]")
        second.wait_for_selector("input[name=code]")
        problems = _check(second, f"second-factor-{locale[:2]}")
        assert problems == [], problems
        if locale == "en-US":
            step = _next_step(step)
            second.fill("input[name=code]", secret.generate_otp(step))
        else:
            second.fill("input[name=code]", recovery[0])
        with second.expect_request(lambda request: request.url.startswith(REDIRECT)):
            second.click("button[type=submit]")  # the app was allowed already: back to it
        other.close()


def test_the_home_page_and_errors_are_json_for_programs(pages_server: ServerProcess) -> None:
    http = pages_server.http
    home = http.get("/")
    assert home.json() == {"issuer": pages_server.base_url, "openid_configuration":
                           f"{pages_server.base_url}/.well-known/openid-configuration"}
    missing = http.get("/no/such/page", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = http.get("/no/such/page", headers=browser)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "Sign-in service" in http.get("/", headers=browser).text


def test_the_logout_page_names_the_account_and_the_app(pages_server: ServerProcess) -> None:
    """Without an id_token_hint there is no app to name; with a client_id there is."""
    app = pages_server.cli_json("client", "create", "--name", "Named App")
    page = httpx.get(f"{pages_server.base_url}/oauth/logout",
                     params={"client_id": app["client_id"]})
    assert "<strong>Named App</strong> asks to sign you out" in page.text
    assert 'name="cancel"' in page.text and "You are not signed in here" in page.text


def test_a_wait_is_said_in_minutes() -> None:
    assert [wait_words(s) for s in (1, 45, 60, 61, 298, 300)] == [
        "1 second", "45 seconds", "1 minute", "2 minutes", "5 minutes", "5 minutes"]
