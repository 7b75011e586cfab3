"""OpenID Connect Back-Channel Logout 1.0 against `authserver serve`: logging out POSTs a
logout token to every client of the session that registered a back-channel URI, to a real
HTTP receiver here; the token is verified by PyJWT against the JWKS. Delivery never holds the
logout page, retries a failing client a bounded number of times, and gives up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from .browser import REDIRECT, Browser, RelyingParty
from .helpers import csrf
from .support import ServerProcess, eventually
from .verifier import IndependentVerifier

EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Retries 0.1 s and 0.2 s apart instead of 1 s and 4 s: three attempts all the same.
SERVER_ENV = {"AUTHSERVER_BACKCHANNEL_LOGOUT_RETRY_DELAYS": "0.1,0.2"}


class Receiver:
    """A client's back-channel logout endpoint: records each POST, answers `statuses` in turn
    (then the last one for ever), and holds its answer while `hold` is set."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses or (200,))
        self.received: list[dict[str, Any]] = []
        self.hold = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = parse_qs(self.rfile.read(length).decode())
                receiver.received.append({"content_type": self.headers.get("Content-Type"),
                                          "form": body})
                if receiver.hold.is_set():
                    receiver.release.wait(30)
                status = receiver.statuses[min(len(receiver.received), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/backchannel-logout"
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def tokens(self) -> list[str]:
        return [r["form"]["logout_token"][0] for r in self.received]

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def _client(server: ServerProcess, backchannel_uri: str | None) -> RelyingParty:
    extra = ["--backchannel-logout-uri", backchannel_uri] if backchannel_uri else []
    app = server.cli_json("client", "create", "--name", "bcl rp", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid",
                          *extra)
    assert app["backchannel_logout_uri"] == backchannel_uri
    return RelyingParty(server, app["client_id"], app["client_secret"])


def _log_out(server: ServerProcess, browser: Browser) -> httpx.Response:
    page = browser.http.get(f"{server.base_url}/oauth/logout")
    return browser.http.post(f"{server.base_url}/oauth/logout",
                             data={"confirm": "yes", "csrf_token": csrf(page.text)})


def test_logout_sends_each_client_of_the_session_a_logout_token(
    server: ServerProcess, browser: Browser, receivers: list[Receiver]
) -> None:
    receivers += [Receiver(), Receiver(), Receiver()]
    first, second = _client(server, receivers[0].url), _client(server, receivers[1].url)
    _client(server, receivers[2].url)  # registered, but the user never signs in to it
    quiet = _client(server, None)
    id_tokens = {rp.client_id: rp.tokens(browser)["id_token"] for rp in (first, second, quiet)}
    verifier = IndependentVerifier(server.http, server.base_url)
    sid = verifier.verify(id_tokens[first.client_id], audience=first.client_id)["sid"]

    assert _log_out(server, browser).status_code == 200
    for receiver, rp in ((receivers[0], first), (receivers[1], second)):
        eventually(lambda r=receiver: len(r.received), lambda n: n >= 1)
        assert receiver.received[0]["content_type"] == "application/x-www-form-urlencoded"
        token = receiver.tokens()[0]
        assert jwt.get_unverified_header(token)["typ"] == "logout+jwt"
        claims = verifier.verify(token, audience=rp.client_id, typ="logout+jwt")
        assert claims["sid"] == sid
        assert claims["sub"] == verifier.verify(id_tokens[rp.client_id], audience=rp.client_id)["sub"]
        assert claims["events"] == {EVENT: {}}
        assert "nonce" not in claims and claims["jti"] and claims["iat"] <= claims["exp"]
    assert receivers[2].received == []
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_a_client_that_does_not_answer_never_holds_the_logout_page(
    server: ServerProcess, browser: Browser, receivers: list[Receiver]
) -> None:
    receivers.append(Receiver())
    receivers[0].hold.set()  # the client's endpoint takes the request and does not answer
    rp = _client(server, receivers[0].url)
    rp.tokens(browser)
    answer = _log_out(server, browser)  # httpx gives up after 10 s if the page waited
    assert answer.status_code == 200 and "signed out" in answer.text.lower()
    eventually(lambda: len(receivers[0].received), lambda n: n >= 1)


def test_a_failing_client_is_retried_then_given_up(
    server: ServerProcess, browser: Browser, receivers: list[Receiver]
) -> None:
    receivers += [Receiver(503, 200), Receiver(503)]
    recovering, failing = _client(server, receivers[0].url), _client(server, receivers[1].url)
    recovering.tokens(browser)
    failing.tokens(browser)
    _log_out(server, browser)
    eventually(lambda: len(receivers[0].received), lambda n: n >= 2)
    eventually(lambda: len(receivers[1].received), lambda n: n >= 3, within=20)
    assert eventually(lambda: server.log().count("logout.backchannel"), lambda n: n >= 2,
                      within=20)
    assert len(receivers[0].received) == 2  # answered 200 the second time: not sent again
    assert len(receivers[1].received) == 3  # three attempts in all, then given up


@pytest.mark.parametrize("uri", ["ftp://rp.example/logout", "http://rp.example/logout",
                                 "https://rp.example/logout#frag", "com.example.app:/logout"])
def test_a_back_channel_uri_that_is_not_https_or_loopback_is_refused(
    server: ServerProcess, uri: str
) -> None:
    result = server.cli("client", "create", "--name", "bad", "--grant-type", "authorization_code",
                        "--redirect-uri", REDIRECT, "--backchannel-logout-uri", uri, check=False)
    assert result.returncode == 2 and "URI" in result.stderr, result.stderr
