"""The passkey pages in Chromium (Playwright, Debian's package, a CDP virtual authenticator)
against a real `authserver serve` at http://localhost:PORT: the login page, the first
passkey's recovery codes, /account (a name left empty, a sign-in long ago) and the second step
after the password (a wrong recovery code) at 390 and 1280 px, English and Korean, light and
dark, with no sideways scroll and nothing for axe-core's WCAG 2 A and AA checks; and /account
under an IP issuer saying why there are no passkeys (screenshots in test-artifacts/passkeys/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .helpers import PASSWORD
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
from .support import ServerProcess, copy_keys, start_server
from .test_pages import AXE_RUN, axe_script  # noqa: F401 (the fixture: axe-core from npm)


def age_sign_ins(server: ServerProcess, seconds: int = 600) -> None:
    """Every sign-in made `seconds` earlier (web/recent_sign_in.py asks for the password)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(server.env["AUTHSERVER_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "UPDATE login_sessions SET auth_time = auth_time - :s"), {"s": seconds})
    engine.dispose()


def _fits(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def _every_look(page: Any, axe: Path, name: str) -> None:
    """At 1280 and 390 px, light and dark (the same page: its viewport and colour scheme
    emulated, not loaded again): no sideways scroll, and axe-core's WCAG 2 A and AA checks
    (contrast, labels) find nothing; a screenshot of each."""
    page.add_script_tag(path=str(axe))
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            _fits(page)
            assert page.evaluate(AXE_RUN) == [], (page.url, width, scheme)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"),
                            full_page=True)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_passkey_pages_fit_390_and_1280_pixels_light_and_dark(
        server: ServerProcess, chromium_browser: Any, axe_script: Path, lang: str) -> None:  # noqa: F811
    spa = server.cli_json("client", "create", "--name", "Pages SPA", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--auth-method", "none", "--scope", "openid profile")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = chromium_browser
    context = browser.new_context(
        locale="ko-KR" if lang == "ko" else "en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True)  # for axe's script only: ours is 'self' anyway
    page = context.new_page()
    with_authenticator(page)
    username, _ = new_user(server)
    page.goto(issuer(server) + "/account/login")
    page.wait_for_selector("#passkey-signin")
    _every_look(page, axe_script, f"login-{lang}")
    password_sign_in(page, server, username)
    add_passkey(page, "노트북 키" if lang == "ko" else "Laptop key",
                lambda page: _every_look(page, axe_script, f"first-passkey-codes-{lang}"))
    page.fill("form.rename input[name=name]", "")
    page.click("form.rename button[type=submit]")
    page.wait_for_selector(".rename .field-error")
    assert page.locator("html").get_attribute("lang") == lang
    _every_look(page, axe_script, f"account-{lang}")
    # Long after the sign-in, adding a factor asks for the password beside it.
    age_sign_ins(server)
    page.goto(issuer(server) + "/account")
    page.click("#passkey-add")
    page.wait_for_selector("#passkey-add-error:not([hidden])")
    assert page.locator("#passkey-password").count() == 1
    page.click("#totp-add")
    page.wait_for_selector("#totp_setup_password-error")
    _every_look(page, axe_script, f"account-old-sign-in-{lang}")
    # The second step after the password, when a passkey is asked for.
    context.clear_cookies()
    password_step_asking_for_a_passkey(page, server, spa["client_id"], username)
    _every_look(page, axe_script, f"second-step-{lang}")
    # A wrong recovery code: its error beside the field.
    page.fill("#code", "aaaa-aaaa-aaaa-aaaa")
    page.click("form:has(#code) button[type=submit]")
    page.wait_for_selector("#code-error")
    assert page.get_attribute("#code", "aria-describedby") == "code-error"
    _every_look(page, axe_script, f"second-step-recovery-error-{lang}")
    context.close()


def test_an_ip_issuer_account_page_says_why(tmp_path: Path, key_template: Path,
                                            chromium_browser: Any) -> None:
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'ip.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1)
    try:
        username, _ = new_user(server)
        browser = chromium_browser
        page = browser.new_page(viewport={"width": 390, "height": 900})
        page.goto(server.base_url + "/account/login")
        assert page.locator("#passkey-signin").count() == 0
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_selector("#passkeys-unavailable")
        assert "http://localhost:5000" in page.inner_text("#passkeys-unavailable")
        _fits(page)
        page.screenshot(path=str(ARTIFACTS / "account-ip-issuer-390.png"), full_page=True)
    finally:
        server.stop()
