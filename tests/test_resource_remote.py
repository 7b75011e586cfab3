"""The resource protector in another service, given only the issuer URL: discovery, JWKS
caching, bounded refetch on unknown kids, and surviving an issuer outage. A small issuer runs
as a real HTTP server in a thread; the example service runs as a separate process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from joserfc import jws
from joserfc.jwk import KeySet, RSAKey
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from authserver.resource import RemoteIssuerKeys, create_protector

from .support import example_service, free_port

REPO = Path(__file__).resolve().parent.parent


def new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


class FakeIssuer:
    """Discovery + JWKS over real HTTP, counting what it serves."""

    def __init__(self, keys: list[RSAKey], max_age: int = 600) -> None:
        self.keys = keys
        self.max_age = max_age
        self.jwks_fetches = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.claimed_issuer = self.url
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            body = {"issuer": self.claimed_issuer, "jwks_uri": f"{self.url}/jwks"}
            return Response(json.dumps(body), mimetype="application/json")(environ, start_response)
        if request.path == "/jwks":
            self.jwks_fetches += 1
            jwks = KeySet(self.keys).as_dict(private=False)
            response = Response(json.dumps(jwks), mimetype="application/jwk-set+json")
            response.headers["Cache-Control"] = f"public, max-age={self.max_age}"
            return response(environ, start_response)
        return Response("not found", status=404)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer([new_key()])
    yield fake
    fake.stop()


def token_for(issuer: FakeIssuer, key: RSAKey, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": issuer.url, "aud": f"{issuer.url}/api", "sub": "u1", "client_id": "c1",
               "scope": "profile", "iat": now, "exp": now + 300, "jti": "j", **claims}
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(payload).encode(), key)


def test_keys_are_fetched_once_and_cached(issuer: FakeIssuer) -> None:
    keys = RemoteIssuerKeys(issuer.url)
    kid = issuer.keys[0].kid
    for _ in range(20):
        assert keys.get_key(kid) is not None
    assert issuer.jwks_fetches == 1


def test_a_flood_of_unknown_kids_refetches_at_most_once_per_interval(issuer: FakeIssuer) -> None:
    keys = RemoteIssuerKeys(issuer.url, min_refetch_interval=30)
    assert keys.get_key(issuer.keys[0].kid) is not None
    for n in range(50):
        assert keys.get_key(f"bogus-{n}") is None
    assert issuer.jwks_fetches == 1  # the first fetch was less than 30 s ago


def test_a_rotated_in_kid_is_picked_up_by_one_refetch(issuer: FakeIssuer) -> None:
    clock = [1000.0]
    keys = RemoteIssuerKeys(issuer.url, min_refetch_interval=30, clock=lambda: clock[0])
    assert keys.get_key(issuer.keys[0].kid) is not None
    rotated = new_key()
    issuer.keys.append(rotated)
    clock[0] += 31
    assert keys.get_key(rotated.kid) is not None
    assert issuer.jwks_fetches == 2


def test_cached_keys_keep_working_while_the_issuer_is_down(issuer: FakeIssuer) -> None:
    clock = [1000.0]
    keys = RemoteIssuerKeys(issuer.url, min_refetch_interval=1, timeout=0.5,
                            clock=lambda: clock[0])
    kid = issuer.keys[0].kid
    assert keys.get_key(kid) is not None
    issuer.stop()
    clock[0] += issuer.max_age + 10  # the cache is stale and the refetch fails
    assert keys.get_key(kid) is not None


def test_discovery_naming_another_issuer_is_refused(issuer: FakeIssuer) -> None:
    issuer.claimed_issuer = "http://evil.test"
    keys = RemoteIssuerKeys(issuer.url)
    assert keys.get_key(issuer.keys[0].kid) is None
    assert issuer.jwks_fetches == 0


def protected_app(issuer: FakeIssuer, scope: str) -> Flask:
    """A Flask service whose /x needs `scope`, knowing only the issuer's URL."""
    protector = create_protector(issuer.url, f"{issuer.url}/api", RemoteIssuerKeys(issuer.url))
    app = Flask(__name__)

    @app.get("/x")
    @protector(scope)
    def view() -> str:
        return "ok"

    return app


def test_remote_protector_validates_in_a_flask_app(issuer: FakeIssuer) -> None:
    client = protected_app(issuer, "profile").test_client()
    good = token_for(issuer, issuer.keys[0])
    assert client.get("/x", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    forged = token_for(issuer, new_key())
    assert client.get("/x", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_service_s_own_error_pages_leave_the_protector_s_answers_alone(
    issuer: FakeIssuer,
) -> None:
    """A service with error handlers of its own (for 401, 403, or every HTTPException) still
    answers a refused token with the RFC 6750 challenge and JSON body: the protector's answer
    goes past them."""
    app = protected_app(issuer, "admin")
    for handled in (401, 403, HTTPException):  # by code, and every HTTP error a JSON API's way
        app.register_error_handler(handled, lambda _error: ("<h1>our own page</h1>", 418))
    client = app.test_client()
    missing = client.get("/x")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json["error"] == "invalid_request"
    token = token_for(issuer, issuer.keys[0])  # scope "profile"
    narrow = client.get("/x", headers={"Authorization": f"Bearer {token}"})
    assert narrow.status_code == 403 and narrow.json["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in narrow.headers["WWW-Authenticate"]


def test_example_service_runs_as_a_separate_process(issuer: FakeIssuer) -> None:
    with example_service(issuer.url) as url:
        good = token_for(issuer, issuer.keys[0])
        response = httpx.get(url, headers={"Authorization": f"Bearer {good}"})
        assert response.status_code == 200
        assert response.json()["hello"] == "u1"
        bad = httpx.get(url, headers={"Authorization": "Bearer not.a.token"})
        assert bad.status_code == 401
        assert bad.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
        issuer.stop()
        assert httpx.get(url, headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_a_max_age_with_a_non_ascii_digit_falls_back_to_the_default(issuer: FakeIssuer) -> None:
    issuer.max_age = "\u00b2"  # type: ignore[assignment]  # str.isdigit() says yes, int() says no
    clock = [1000.0]
    keys = RemoteIssuerKeys(issuer.url, default_max_age=300, min_refetch_interval=0,
                            clock=lambda: clock[0])
    assert keys.get_key(issuer.keys[0].kid) is not None
    clock[0] += 299
    assert keys.get_key(issuer.keys[0].kid) is not None
    assert issuer.jwks_fetches == 1  # fresh for the default 300 s
