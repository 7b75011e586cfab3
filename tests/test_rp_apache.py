"""A relying party no one here wrote: Apache httpd with mod_auth_openidc (Debian's packages)
against `authserver serve`. Chromium signs a user in through it (discovery, the code flow with
PKCE and client_secret_basic, the ID token and userinfo checked by the module), it refreshes
the access token, a back-channel logout from the server ends its session, and as a resource
server (AuthType oauth20) it validates access tokens by introspection with a
`--resource-server` client. One server (SQLite: the relying party is the subject here, the
databases are covered in process) and one Apache for the module."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .apache_rp import Apache, RelyingPartySettings, apache, require_apache
from .support import ServerProcess, copy_keys, eventually, free_port, start_server

PASSWORD = "apache-user-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_template: Path
           ) -> Iterator[ServerProcess]:
    require_apache()
    workdir = tmp_path_factory.mktemp("rp-apache")
    process = start_server(workdir, database_url=f"sqlite:///{workdir / 'authserver.db'}",
                           keys_dir=copy_keys(key_template, workdir),
                           extra_env={"AUTHSERVER_ACCESS_TOKEN_TTL": "60"})
    yield process
    process.stop()


@pytest.fixture(scope="module")
def site(server: ServerProcess) -> Iterator[Apache]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rp = server.cli_json(
        "client", "create", "--name", "Apache", "--grant-type", "authorization_code",
        "--grant-type", "refresh_token", "--redirect-uri", f"{base}/app/redirect_uri",
        "--backchannel-logout-uri", f"{base}/app/redirect_uri?logout=backchannel",
        "--scope", "openid profile email")
    server.cli("api", "create", "--audience", f"{base}/api", "--name", "Apache API",
               "--scope", "apache:read=Read through Apache")
    resource = server.cli_json("client", "create", "--name", "Apache as an API",
                               "--resource-server", f"{base}/api")
    settings = RelyingPartySettings(server.base_url, rp["client_id"], rp["client_secret"],
                                    resource["client_id"], resource["client_secret"])
    with apache(port, settings) as running:
        yield running
        assert "Traceback" not in server.log()


def new_person(server: ServerProcess) -> dict[str, Any]:
    username = f"apache{secrets.token_hex(3)}"
    return server.cli_json("user", "create", "--username", username, "--email",
                           f"{username}@example.com", "--password-stdin", stdin=PASSWORD + "\n")


def sign_in(page: Any, site: Apache, person: dict[str, Any]) -> Any:
    """Open Apache's protected page, sign in and consent on the server's pages; returns the
    protected page's response."""
    page.goto(f"{site.base_url}/app/index.html")
    page.fill("input[name=username]", person["username"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("button[name=decision][value=allow]")
    landed: list[Any] = []
    page.on("response", lambda r: landed.append(r) if r.url.startswith(
        f"{site.base_url}/app/") else None)
    page.click("button[name=decision][value=allow]")
    page.wait_for_load_state()
    assert landed, f"{page.url}\n{page.content()[:2000]}\n{site.error_log()}"
    return landed[-1]


def test_apache_signs_a_user_in_and_refreshes_the_access_token(
        server: ServerProcess, site: Apache, chromium_browser: Any) -> None:
    person = new_person(server)
    page = chromium_browser.new_context().new_page()
    landed = sign_in(page, site, person)
    assert landed.status == 200, site.error_log()
    assert landed.headers["x-remote-user"].startswith(person["sub"])  # sub@issuer by default
    assert landed.headers["x-email"] == person["username"] + "@example.com"
    first = landed.headers["x-access-token"]
    again = page.goto(f"{site.base_url}/app/index.html")
    assert again.status == 200
    # OIDCRefreshAccessTokenBeforeExpiry: the 60 s token was refreshed, the grant rotated.
    assert again.headers["x-access-token"] not in ("", first)
    assert '"grant_type":"refresh_token"' in server.log()
    page.context.close()


def test_a_back_channel_logout_ends_the_apache_session(
        server: ServerProcess, site: Apache, chromium_browser: Any) -> None:
    person = new_person(server)
    page = chromium_browser.new_context().new_page()
    assert sign_in(page, site, person).status == 200
    # The user signs out at the server itself, not through Apache: only the back-channel
    # logout token can tell Apache.
    page.goto(f"{server.base_url}/oauth/logout")
    page.click("button[name=confirm]")  # not "Stay signed in", the first button
    delivered = eventually(server.log, lambda log: '"logout.backchannel"' in log)
    assert '"logout.backchannel","outcome":"success"' in delivered, site.error_log()
    page.goto(f"{site.base_url}/app/index.html")
    assert page.url.startswith(f"{server.base_url}/oauth/authorize"), page.url  # signed out
    assert page.locator("input[name=password]").count() == 1
    page.context.close()


def test_apache_validates_access_tokens_by_introspection(server: ServerProcess, site: Apache
                                                         ) -> None:
    caller = server.cli_json("client", "create", "--name", "caller",
                             "--scope", "apache:read notes:read")
    auth = (caller["client_id"], caller["client_secret"])

    def token(resource: str | None) -> str:
        form = {"grant_type": "client_credentials", **({"resource": resource} if resource else {})}
        answer = server.http.post("/oauth/token", data=form, auth=auth)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    for_apache = token(f"{site.base_url}/api")
    accepted = httpx.get(f"{site.base_url}/api/index.html",
                         headers={"Authorization": f"Bearer {for_apache}"})
    assert accepted.status_code == 200, site.error_log()
    assert accepted.headers["x-remote-user"] == caller["client_id"]  # sub of a machine token
    assert accepted.headers["x-token-client"] == caller["client_id"]
    for refused in (token(f"{server.base_url}/api"), "not-a-token"):  # the sample API's; garbage
        answer = httpx.get(f"{site.base_url}/api/index.html",
                           headers={"Authorization": f"Bearer {refused}"})
        assert answer.status_code == 401
    assert httpx.get(f"{site.base_url}/api/index.html").status_code == 401
