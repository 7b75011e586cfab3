"""A person in Chromium (Playwright, Debian's package) against one real `authserver serve` with
a real SMTP server: sign-up, the mailed link, sign-in, the account page. Then every page of the
accounts at 1280 and 390 pixels wide in English and Korean, with no sideways scroll
(screenshots in test-artifacts/accounts/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .mail_server import Inbox, smtp_server
from .support import ServerProcess, copy_keys, eventually, start_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "accounts"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory: pytest.TempPathFactory,
                   key_template: Path) -> Iterator[tuple[ServerProcess, Inbox]]:
    workdir = tmp_path_factory.mktemp("accounts")
    with smtp_server() as (url, inbox):
        process = start_server(workdir, database_url=f"sqlite:///{workdir / 'a.db'}",
                               keys_dir=copy_keys(key_template, workdir),
                               extra_env={"AUTHSERVER_SMTP_URL": url, "AUTHSERVER_SIGNUP": "open"})
        try:
            yield process, inbox
        finally:
            process.stop()


def _link(inbox: Inbox, address: str) -> str:
    eventually(lambda: inbox.to(address), bool)
    return inbox.last_link(address)


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def test_a_person_signs_up_opens_the_link_signs_in_and_sees_the_account(
        mailing_server: tuple[ServerProcess, Inbox], chromium_browser: Any) -> None:
    server, inbox = mailing_server
    browser = chromium_browser
    page = browser.new_page()
    page.goto(server.base_url + "/account/login")
    page.click("text=Create an account")
    page.fill("#username", "dana")
    page.fill("#email", "dana@example.com")
    page.fill("#password", "dana's long password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your email")
    page.goto(_link(inbox, "dana@example.com"))
    page.wait_for_selector("text=Email address confirmed")
    page.click("text=Go to your account")
    page.fill("#username", "dana")
    page.fill("#password", "dana's long password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Your account")
    content = page.content()
    assert "dana@example.com" in content and ">verified<" in content
    assert "this browser" in content


def _pages(server: ServerProcess, inbox: Inbox, lang: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, url, fields to fill and submit or {}) of each page to look at."""
    base = server.base_url
    server.cli_json("user", "create", "--username", f"look{lang}", "--email",
                    f"look{lang}@example.com", "--email-verified", "--password-stdin",
                    stdin="looking glass 1\n")
    server.http.post(base + "/account/forgot")  # nothing: needs the form's token
    return [
        ("login", base + "/account/login", {}),
        ("login-error", base + "/account/login", {"#username": f"look{lang}", "#password": "x"}),
        ("signup-errors", base + "/account/signup",
         {"#username": "two words", "#email": "not-mail", "#password": "short"}),
        ("forgot", base + "/account/forgot", {}),
        ("check-email", base + "/account/forgot", {"#email": f"look{lang}@example.com"}),
        ("link-problem", base + "/account/reset?token=nonsense", {}),
    ]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_account_page_fits_390_and_1280_pixels(
        mailing_server: tuple[ServerProcess, Inbox], chromium_browser: Any, lang: str) -> None:
    server, inbox = mailing_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(server, inbox, lang)
    browser = chromium_browser
    for width in WIDTHS:
        context = browser.new_context(locale="ko-KR" if lang == "ko" else "en-US",
                                      viewport={"width": width, "height": 900})
        page = context.new_page()
        for name, url, fields in pages:
            page.goto(url)
            for selector, value in fields.items():
                page.fill(selector, value)
            if fields:
                page.click("main button[type=submit]")
                page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == lang
            _fits(page)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}-{width}.png"), full_page=True)
        reset = _link(inbox, f"look{lang}@example.com")
        page.goto(reset)
        page.screenshot(path=str(ARTIFACTS / f"reset-{lang}-{width}.png"), full_page=True)
        page.goto(server.base_url + "/account/login")
        page.fill("#username", f"look{lang}")
        page.fill("#password", "looking glass 1")
        page.click("main button[type=submit]")
        page.wait_for_selector("#sessions-h")
        page.fill("#current_password", "wrong")
        page.fill("#new_password", "whatever long")
        page.click("form[action$='/password'] button[type=submit]")
        page.wait_for_selector("#current_password-error")
        _fits(page)
        page.screenshot(path=str(ARTIFACTS / f"account-{lang}-{width}.png"), full_page=True)
        assert f'<html lang="{lang}"' in page.content()
        context.close()
