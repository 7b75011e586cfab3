"""A malicious OpenID provider for the federation tests: discovery, a JWKS and a token endpoint
over real HTTP (http.server in a thread), whose token endpoint hands out whatever ID token the
test sets. Written by hand because its point is to break the rules a real provider keeps."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import ECKey


@dataclass
class HostileProvider:
    issuer: str = ""
    signing_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", {"kid": "k1"}))
    published: list[ECKey] = field(default_factory=list)
    # What the token endpoint answers: a function of the token request's form.
    answer: Callable[[dict[str, str]], tuple[int, bytes]] | None = None
    token_requests: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)
    jwks_fetches: int = 0

    def id_token(self, nonce: str, audience: str, key: ECKey | None = None,
                 drop: tuple[str, ...] = (), **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "hostile-sub", "aud": audience, "iat": now,
                  "exp": now + 300, "nonce": nonce, "email": "mallory@example.com",
                  "email_verified": True, **overrides}
        claims = {name: value for name, value in claims.items() if name not in drop}
        key = key or self.signing_key
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def unsigned_id_token(self, **claims: Any) -> str:
        """alg none (RFC 7519 §6): joserfc will not make one, so by hand."""
        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{part({'alg': 'none'})}.{part(claims)}."

    def answer_with(self, id_token: str) -> None:
        body = json.dumps({"access_token": "at", "token_type": "Bearer", "id_token": id_token})
        self.answer = lambda form: (200, body.encode())


@contextmanager
def hostile_provider() -> Iterator[HostileProvider]:
    provider = HostileProvider()
    provider.published.append(provider.signing_key)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except BrokenPipeError:
                pass  # we timed out first (the slow endpoint's test)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/.well-known/openid-configuration":
                self._send(200, json.dumps({
                    "issuer": provider.issuer,
                    "authorization_endpoint": provider.issuer + "/authorize",
                    "token_endpoint": provider.issuer + "/token",
                    "jwks_uri": provider.issuer + "/jwks",
                }).encode())
            elif self.path == "/jwks":
                provider.jwks_fetches += 1
                keys = [key.as_dict(private=False) for key in provider.published]
                self._send(200, json.dumps({"keys": keys}).encode())
            else:
                self._send(404, b"{}")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append((dict(self.headers), form))
            status, body = provider.answer(form) if provider.answer else (500, b"{}")
            self._send(status, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll: shutdown() waits up to one poll, and most tests start a provider of their own.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
