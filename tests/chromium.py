"""Chromium for the browser tests (Debian's package, driven by Playwright): one per test
process, shared, with fresh contexts for each test (the fixtures, imported by conftest.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium_path() -> str:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return CHROMIUM


class _Chromium:
    """The process's Chromium, started when a test first asks for it, and started again if
    it died (a crashed browser would otherwise fail every later browser test of the worker)."""

    def __init__(self, playwright: Any, path: str) -> None:
        self.playwright, self.path, self.browser = playwright, path, None

    def get(self) -> Any:
        if self.browser is None or not self.browser.is_connected():
            self.browser = self.playwright.chromium.launch(executable_path=self.path,
                                                           args=CHROMIUM_ARGS)
        return self.browser


@pytest.fixture(scope="session")
def _chromium_process() -> Iterator[_Chromium]:
    """One Chromium per test process: starting Playwright and a browser costs about a second,
    and 16 tests drive one."""
    from playwright.sync_api import sync_playwright

    path = _chromium_path()
    with sync_playwright() as playwright:
        chromium = _Chromium(playwright, path)
        yield chromium
        if chromium.browser is not None and chromium.browser.is_connected():
            chromium.browser.close()


@pytest.fixture
def chromium_browser(_chromium_process: _Chromium) -> Iterator[Any]:
    """The process's Chromium (a Playwright Browser). Every context the test opened (its
    cookies, storage, virtual authenticators) is closed after it, so no test sees another's:
    open pages with `new_context()` or `new_page()`, never the browser's default context."""
    browser = _chromium_process.get()
    yield browser
    if browser.is_connected():
        for context in list(browser.contexts):
            context.close()
