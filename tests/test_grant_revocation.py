"""Access tokens whose grant ended stop working at the server's own endpoints (OIDC Core §5.3,
RFC 7662, conformance module oidcc-codereuse-30seconds): a replayed code, a reused refresh
token, a revoked refresh token, a password change, a deleted user. Over HTTP to the app in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .browser import REDIRECT, Browser, RelyingParty
from .support import ServerProcess

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)

@pytest.fixture(scope="module")
def rp(server: ServerProcess) -> Iterator[RelyingParty]:
    app = server.cli_json("client", "create", "--name", "web", "--grant-type",
                          "authorization_code", "--grant-type", "refresh_token",
                          "--redirect-uri", REDIRECT, "--scope", "openid profile notes:read")
    yield RelyingParty(server, app["client_id"], app["client_secret"])
    assert "Traceback" not in server.log()


def _userinfo(server: ServerProcess, access_token: str) -> int:
    return server.http.get("/oauth/userinfo",
                           headers={"Authorization": f"Bearer {access_token}"}).status_code


def _active(server: ServerProcess, rp: RelyingParty, token: str) -> bool:
    answer = server.http.post("/oauth/introspect", data={"token": token},
                              auth=(rp.client_id, rp.client_secret or ""))
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


def _live(server: ServerProcess, rp: RelyingParty, access_token: str) -> bool:
    status = _userinfo(server, access_token)
    active = _active(server, rp, access_token)
    assert (status == 200) == active, (status, active)
    return active


def test_a_replayed_code_ends_the_access_token_it_gave(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    code, verifier = rp.code(browser, scope="openid notes:read")
    tokens = rp.exchange(code, verifier).json()
    assert _live(server, rp, tokens["access_token"])
    replay = rp.exchange(code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert not _live(server, rp, tokens["access_token"])
    assert not _active(server, rp, tokens["refresh_token"])
    answer = server.http.get("/oauth/userinfo",
                             headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert answer.json()["error"] == "invalid_token"
    # An API that validates tokens locally cannot know (README, "Revocation"): it accepts
    # the token until it expires.
    api = server.http.get("/api/notes", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert api.status_code == 200


def test_a_replayed_code_of_a_client_without_refresh_tokens_ends_its_token(
    server: ServerProcess, browser: Browser
) -> None:
    app = server.cli_json("client", "create", "--name", "no refresh", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid")
    no_refresh = RelyingParty(server, app["client_id"], app["client_secret"])
    code, verifier = no_refresh.code(browser)
    tokens = no_refresh.exchange(code, verifier).json()
    assert "refresh_token" not in tokens
    assert _live(server, no_refresh, tokens["access_token"])
    assert no_refresh.exchange(code, verifier).status_code == 400
    assert not _live(server, no_refresh, tokens["access_token"])


def _refresh(server: ServerProcess, rp: RelyingParty, refresh_token: str) -> Any:
    return server.http.post("/oauth/token", auth=(rp.client_id, rp.client_secret or ""),
                            data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_a_reused_refresh_token_ends_every_access_token_of_its_grant(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    first = rp.tokens(browser)
    second = _refresh(server, rp, first["refresh_token"]).json()
    assert _live(server, rp, first["access_token"]) and _live(server, rp, second["access_token"])
    assert _refresh(server, rp, first["refresh_token"]).status_code == 400  # reuse
    assert not _live(server, rp, first["access_token"])
    assert not _live(server, rp, second["access_token"])


def test_revoking_the_refresh_token_ends_the_access_tokens_of_its_grant(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    tokens = rp.tokens(browser)
    other = rp.tokens(browser)  # another grant of the same user and client
    answer = server.http.post("/oauth/revoke", data={"token": tokens["refresh_token"]},
                              auth=(rp.client_id, rp.client_secret or ""))
    assert answer.status_code == 200
    assert not _live(server, rp, tokens["access_token"])
    assert _live(server, rp, other["access_token"])


def test_a_password_change_ends_the_users_access_tokens(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    tokens = rp.tokens(browser)
    assert _live(server, rp, tokens["access_token"])
    server.cli("user", "set-password", browser.username, "--password-stdin",
               stdin="a-new-password-for-grantee\n")
    assert not _live(server, rp, tokens["access_token"])


def test_deleting_the_user_ends_their_access_tokens(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    tokens = rp.tokens(browser)
    assert _live(server, rp, tokens["access_token"])
    server.cli("user", "delete", browser.username)
    assert not _live(server, rp, tokens["access_token"])


def test_machine_tokens_stay_active(server: ServerProcess) -> None:
    app = server.cli_json("client", "create", "--name", "machine", "--grant-type",
                          "client_credentials")
    token = server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                             auth=(app["client_id"], app["client_secret"])).json()["access_token"]
    machine = RelyingParty(server, app["client_id"], app["client_secret"])
    assert _active(server, machine, token)
