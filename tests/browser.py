"""A user's browser and a relying party against `authserver serve`, over real HTTP: the code
flow's authorization request, our login and consent pages, and the code exchange."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from .helpers import action, csrf, pkce
from .support import ServerProcess

REDIRECT = "http://127.0.0.1:9/cb"  # nothing listens: only the Location is read


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def query(response: httpx.Response) -> dict[str, str]:
    """The parameters of a redirect back to the client."""
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


@dataclass
class Browser:
    server: ServerProcess
    username: str
    password: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.server.new_client()  # over HTTP, or WSGI to an app in process

    def authorize(self, params: dict[str, str]) -> httpx.Response:
        """Send an authorization request and go through whatever page comes: login, consent
        (allowed); returns the answer that is not one of our pages."""
        url = f"{self.server.base_url}/oauth/authorize?" + urlencode(params)
        answer = self.http.get(url)
        if 'name="password"' in answer.text:
            answer = self.http.post(self.form_url(answer), data={
                "username": self.username, "password": self.password,
                "csrf_token": csrf(answer.text)})
        if 'name="decision"' in answer.text:
            answer = self.http.post(self.form_url(answer),
                                    data={**hidden_fields(answer.text), "decision": "allow"})
        return answer

    @staticmethod
    def form_url(page: httpx.Response) -> str:
        """Where the page's form posts, as an absolute URL."""
        return str(page.url.join(action(page.text)))

    def close(self) -> None:
        self.http.close()


def new_user(server: ServerProcess, password: str, *options: str) -> Browser:
    """A new user (`options` as for `user create`) and a browser of theirs, signed in to nothing."""
    username = f"user{secrets.token_hex(4)}"
    server.cli_json("user", "create", "--username", username, "--password-stdin", *options,
                    stdin=password + "\n")
    return Browser(server, username, password)


@dataclass
class RelyingParty:
    server: ServerProcess
    client_id: str
    client_secret: str | None = None
    redirect_uri: str = REDIRECT

    def code(self, browser: Browser, **params: str) -> tuple[str, str]:
        """An authorization code (and its PKCE verifier) for these extra parameters."""
        verifier, challenge = pkce()
        answer = browser.authorize(self.request(challenge, **params))
        found = query(answer)
        assert "code" in found, found
        return found["code"], verifier

    def request(self, challenge: str, **params: str) -> dict[str, str]:
        return {"response_type": "code", "client_id": self.client_id,
                "redirect_uri": self.redirect_uri, "scope": "openid", "state": "st",
                "code_challenge": challenge, "code_challenge_method": "S256", **params}

    def exchange(self, code: str, verifier: str) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                "redirect_uri": self.redirect_uri}
        if self.client_secret is None:
            return self.server.http.post("/oauth/token", data={**data, "client_id": self.client_id})
        return self.server.http.post("/oauth/token", data=data,
                                     auth=(self.client_id, self.client_secret))

    def tokens(self, browser: Browser, **params: str) -> dict[str, Any]:
        answer = self.exchange(*self.code(browser, **params))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())
