"""A single-page app no one here wrote: oidc-client-ts 3 in Chromium, in a page served by the
test from another origin (its own small static server: nothing in between adds CORS headers),
against `authserver serve`: discovery, the code flow with PKCE, userinfo, and a silent renew
with the refresh token, every call made by the browser under CORS. One server (SQLite: the
relying party is the subject, CORS itself is tested in process on both databases)."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import RP_DIR
from .support import ServerProcess, copy_keys, free_port, start_server

PASSWORD = "spa-user-password"
BUNDLE = RP_DIR / "node_modules" / "oidc-client-ts" / "dist" / "browser" / "oidc-client-ts.min.js"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_template: Path,
           node_rp: Path) -> Iterator[ServerProcess]:
    if not BUNDLE.exists():
        if os.environ.get("CI"):
            pytest.fail("oidc-client-ts is missing from tests/rp/node_modules: run npm ci there")
        pytest.skip("oidc-client-ts not installed (npm ci in tests/rp)")
    workdir = tmp_path_factory.mktemp("rp-spa")
    process = start_server(workdir, database_url=f"sqlite:///{workdir / 'authserver.db'}",
                           keys_dir=copy_keys(key_template, workdir))
    yield process
    process.stop()


def static_site(files: dict[str, tuple[bytes, str]]) -> tuple[ThreadingHTTPServer, str]:
    """A tiny static server on its own port (another origin than the server's)."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            body, kind = files.get(self.path.split("?", 1)[0], (b"not found", "text/plain"))
            self.send_response(200 if kind != "text/plain" else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", free_port()), Pages)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site, f"http://127.0.0.1:{site.server_address[1]}"


def test_oidc_client_ts_signs_in_reads_userinfo_and_renews_silently(
        server: ServerProcess, chromium_browser: Any) -> None:
    files: dict[str, tuple[bytes, str]] = {}
    site, origin = static_site(files)
    spa = server.cli_json("client", "create", "--name", "oidc-client-ts SPA", "--auth-method",
                          "none", "--grant-type", "authorization_code", "--grant-type",
                          "refresh_token", "--redirect-uri", f"{origin}/callback.html",
                          "--scope", "openid profile email")
    username = f"spa{secrets.token_hex(3)}"
    person = server.cli_json("user", "create", "--username", username, "--email",
                             f"{username}@example.com", "--password-stdin",
                             stdin=PASSWORD + "\n")
    config = {"authority": server.base_url, "client_id": spa["client_id"]}
    pages = RP_DIR / "spa"
    files.update({
        "/index.html": ((pages / "index.html").read_bytes(), "text/html"),
        "/callback.html": ((pages / "callback.html").read_bytes(), "text/html"),
        "/app.js": ((pages / "app.js").read_bytes(), "text/javascript"),
        "/oidc-client-ts.min.js": (BUNDLE.read_bytes(), "text/javascript"),
        "/config.js": (f"window.CONFIG = {json.dumps(config)}".encode(), "text/javascript"),
    })
    try:
        browser = chromium_browser
        page = browser.new_page()
        page.goto(f"{origin}/index.html")
        page.wait_for_selector("input[name=password]")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("button[name=decision][value=allow]")
        page.wait_for_function("document.getElementById('result')?.textContent.length > 0")
        result = json.loads(page.text_content("#result") or "{}")
    finally:
        site.shutdown()
    assert result.get("ok"), result
    assert result["sub"] == person["sub"]
    assert result["email"] == f"{username}@example.com"  # from userinfo (loadUserInfo)
    assert result["had_refresh_token"] is True
    assert result["renewed_access_token"] != result["first_access_token"]
    assert result["userinfo_status"] == 200 and result["userinfo"]["sub"] == person["sub"]
    assert '"grant_type":"refresh_token"' in server.log()
    assert "Traceback" not in server.log()
