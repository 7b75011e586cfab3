"""The two-factor tests' person and relying party: a user with an authenticator app (pyotp, as
a phone's app makes codes), signing in through the code flow or at /account; shared by the
two-factor, MFA-settings, TOTP-input, key-store and relying-party tests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp
import pytest

from .browser import REDIRECT, Browser, RelyingParty, hidden_fields, new_user, query
from .helpers import csrf, pkce
from .inprocess import InProcessServer
from .support import ServerProcess
from .verifier import IndependentVerifier

PASSWORD = "two-factor-password-1"


@pytest.fixture(scope="module")
def rp(server: ServerProcess) -> Iterator[RelyingParty]:
    app = server.cli_json("client", "create", "--name", "mfa rp", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid")
    yield RelyingParty(server, app["client_id"], app["client_secret"])
    assert "Traceback" not in server.log()


@dataclass
class Person:
    """A user, their browser, and the authenticator app on their phone (once set up)."""

    browser: Browser
    totp: pyotp.TOTP | None = None
    used_step: int = 0
    recovery: list[str] = field(default_factory=list)

    @property
    def http(self) -> httpx.Client:
        return self.browser.http

    def code(self) -> str:
        """The app's next code: a step after the last one used (the server takes each once),
        waiting when that step is more than one ahead of now (the server allows ±1)."""
        assert self.totp is not None
        step = max(int(time.time()) // 30, self.used_step + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.used_step = step
        return self.totp.generate_otp(step)


@pytest.fixture
def person(server: ServerProcess) -> Iterator[Person]:
    one = Person(new_user(server, PASSWORD))
    yield one
    one.browser.close()


def url(server: ServerProcess, page: httpx.Response) -> str:
    return Browser.form_url(page)


def account_sign_in(server: ServerProcess, person: Person,
                    password: str = PASSWORD) -> httpx.Response:
    page = person.http.get(f"{server.base_url}/account/login")
    return person.http.post(f"{server.base_url}/account/login", data={
        "username": person.browser.username, "password": password, "csrf_token": csrf(page.text)})


def password_given_from(server: InProcessServer, person: Person,
                        address: str) -> tuple[httpx.Client, httpx.Response]:
    """A new browser at `address` (the app in process, called as from that address) that gave
    the person's password at /account/login, and the page it got: the code step. The caller
    closes the browser."""
    http = httpx.Client(transport=httpx.WSGITransport(app=server.app, remote_addr=address),
                        base_url=server.base_url)
    page = http.get("/account/login")
    return http, http.post("/account/login", data={"username": person.browser.username,
                                                   "password": PASSWORD,
                                                   "csrf_token": csrf(page.text)})


def set_up_totp(server: ServerProcess, person: Person, password: str = PASSWORD) -> None:
    """At /account: the QR code and the secret, the first code, the recovery codes."""
    if not signed_in(server, person):
        assert account_sign_in(server, person, password).status_code == 303
    account = person.http.get(f"{server.base_url}/account")
    assert 'id="totp-add"' in account.text
    shown = person.http.post(f"{server.base_url}/account/totp",
                             data={"csrf_token": csrf(account.text)})
    assert shown.status_code == 200 and "<svg" in shown.text, shown.text
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', shown.text)
    assert secret, shown.text
    person.totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    done = person.http.post(f"{server.base_url}/account/totp/confirm",
                            data={"csrf_token": csrf(shown.text), "code": person.code()})
    assert done.status_code == 200, done.text
    person.recovery = re.findall(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>",
                                 done.text)
    assert len(person.recovery) == 10 and len(set(person.recovery)) == 10


def start(server: ServerProcess, rp: RelyingParty, person: Person,
          **params: str) -> tuple[httpx.Response, str]:
    """An authorization request, through the login page's password: the page that follows."""
    verifier, challenge = pkce()
    answer = person.http.get(f"{server.base_url}/oauth/authorize?"
                             + urlencode(rp.request(challenge, **params)))
    if 'name="password"' in answer.text:
        answer = person.http.post(url(server, answer), data={
            "username": person.browser.username, "password": PASSWORD,
            "csrf_token": csrf(answer.text)})
    return answer, verifier


def finish(server: ServerProcess, rp: RelyingParty, person: Person, answer: httpx.Response,
           verifier: str) -> dict[str, Any]:
    """From the consent page (or the answer) to the ID token's claims."""
    if 'name="decision"' in answer.text:
        answer = person.http.post(url(server, answer),
                                  data={**hidden_fields(answer.text), "decision": "allow"})
    found = query(answer)
    assert "code" in found, found
    tokens = rp.exchange(found["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    return IndependentVerifier(server.http, server.base_url).verify(
        tokens.json()["id_token"], audience=rp.client_id)


def post_code(server: ServerProcess, person: Person, page: httpx.Response,
              code: str) -> httpx.Response:
    assert 'name="code"' in page.text, page.text
    return person.http.post(url(server, page), data={"csrf_token": csrf(page.text), "code": code})


def signed_in(server: ServerProcess, person: Person) -> bool:
    return person.http.get(f"{server.base_url}/account").status_code == 200
