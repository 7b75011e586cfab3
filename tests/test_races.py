"""Races over real HTTP against `authserver serve --workers 2`, on SQLite and on PostgreSQL:
the same refresh token or code presented many times at once gives exactly one success."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from .browser import Browser
from .helpers import csrf, pkce
from .support import ServerProcess

PARALLEL = 8
REDIRECT = "http://127.0.0.1:9/race"


def all_at_once(
    server: ServerProcess, send: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    """Fire PARALLEL requests released by one barrier, each on its own connection."""
    barrier = threading.Barrier(PARALLEL)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            http.get("/.well-known/openid-configuration")  # connect first
            barrier.wait()
            response = send(http)
            with lock:
                results.append(response)

    threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == PARALLEL
    return results


def test_concurrent_refreshes_of_one_token_give_exactly_one_success_and_revoke_the_family(
    server: ServerProcess,
) -> None:
    app = server.cli_json("client", "create", "--name", "racer", "--grant-type", "password",
                          "--grant-type", "refresh_token")
    server.cli_json("user", "create", "--username", "racer", "--password-stdin", stdin="race-pass-1\n")
    auth = (app["client_id"], app["client_secret"])
    for _round in range(3):
        first = server.http.post("/oauth/token", auth=auth, data={
            "grant_type": "password", "username": "racer", "password": "race-pass-1"}).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        results = all_at_once(
            server, lambda http, form=form: http.post("/oauth/token", auth=auth, data=form)
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [400] * (PARALLEL - 1), [r.text for r in results]
        assert {r.json()["error"] for r in results if r.status_code == 400} == {"invalid_grant"}
        winner = next(r.json() for r in results if r.status_code == 200)
        # Presenting one token twice is what a stolen copy looks like (RFC 9700 §4.14.2): the
        # family is revoked, the winner's new token included, on every backend alike.
        after = server.http.post("/oauth/token", auth=auth, data={
            "grant_type": "refresh_token", "refresh_token": winner["refresh_token"]})
        assert after.status_code == 400 and "revoked" in after.json()["error_description"]
    assert "Traceback" not in server.log()


def test_concurrent_exchanges_of_one_code_give_exactly_one_success(server: ServerProcess) -> None:
    spa = server.cli_json("client", "create", "--name", "race spa", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--auth-method", "none",
                          "--scope", "openid")
    server.cli_json("user", "create", "--username", "codeuser", "--password-stdin",
                    stdin="code-pass-1\n")
    verifier, challenge = pkce()
    url = f"{server.base_url}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": spa["client_id"], "redirect_uri": REDIRECT,
        "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"})
    with httpx.Client(timeout=10) as browser:
        page = browser.get(url)
        consent = browser.post(Browser.form_url(page), data={
            "username": "codeuser", "password": "code-pass-1", "csrf_token": csrf(page.text)})
        location = browser.post(Browser.form_url(consent), data={
            "decision": "allow", "csrf_token": csrf(consent.text)}).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    results = all_at_once(server, lambda http: http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": spa["client_id"], "code_verifier": verifier}))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [400] * (PARALLEL - 1), [r.text for r in results]
    assert "Traceback" not in server.log()
