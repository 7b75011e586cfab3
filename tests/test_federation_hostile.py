"""A provider that lies (tests/hostile_provider.py, real HTTP): every bad ID token, nonsense
answer and slow token endpoint is refused with a page, and nothing is created; the token
request authenticates with client_secret_basic and proves PKCE S256; the provider's keys are
followed through a rotation, and unknown kids do not make us hammer its JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from authserver.config import Settings
from authserver.models import LinkedIdentity, User
from authserver.oauth.upstream import (
    JWKS_REFETCH_INTERVAL,
    Upstream,
    UpstreamError,
    provider_keys,
    read_discovery,
)
from authserver.store.housekeeping import prune
from authserver.store.idps import UPSTREAM_SIGN_IN_TTL, create_idp

from .federation_support import SLUG, loopback_settings, start_at_provider
from .helpers import advance_clock, make_client, pkce
from .hostile_provider import HostileProvider, hostile_provider
from .test_code_flow import authorize_url

CLIENT_ID, CLIENT_SECRET = "our-client", "our secret: at the provider"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def provider() -> Iterator[HostileProvider]:
    with hostile_provider() as running:
        yield running


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(loopback_settings(settings), upstream_timeout=1)


@pytest.fixture
def rp(app: Flask, provider: HostileProvider) -> str:
    with app.extensions["authserver.db"].session() as session:
        create_idp(session, slug=SLUG, name="Hostile", issuer=provider.issuer,
                   client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scope="openid email",
                   link_by_email=False, create_users=True, passphrase=None,
                   discovery=read_discovery(provider.issuer, 5))
    provider.published[:] = [provider.signing_key]
    provider.answer = None
    client_id, _ = make_client(app, grant_types=["authorization_code"],
                               redirect_uris=["https://app.example.com/callback"],
                               auth_method="none")
    return client_id


def created(app: Flask) -> tuple[int, int]:
    with app.extensions["authserver.db"].session() as session:
        return (session.scalar(select(func.count()).select_from(User)) or 0,
                session.scalar(select(func.count()).select_from(LinkedIdentity)) or 0)


def go_upstream(client: FlaskClient, rp: str) -> dict[str, str]:
    """Our login page's provider link: the parameters we send the browser to the provider with."""
    _, challenge = pkce()
    location = start_at_provider(client, authorize_url(rp, challenge))
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def come_back(client: FlaskClient, sent: dict[str, str]) -> Any:
    return client.get(f"/login/idp/{SLUG}/callback?code=the-code&state={sent['state']}")


def test_the_token_request_is_client_secret_basic_with_the_pkce_verifier(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str
) -> None:
    sent = go_upstream(client, rp)
    assert sent["code_challenge_method"] == "S256" and sent["nonce"] and sent["state"]
    assert sent["redirect_uri"] == f"http://127.0.0.1:9/login/idp/{SLUG}/callback"
    provider.answer_with(provider.id_token(sent["nonce"], CLIENT_ID))
    provider.token_requests.clear()
    back = come_back(client, sent)
    assert back.status_code == 200 and 'name="decision"' in back.get_data(as_text=True)
    [(headers, form)] = provider.token_requests
    # HTTP Basic (Authlib sends the id and secret as they are, not form-urlencoded first).
    assert headers["Authorization"].startswith("Basic ") and "client_secret" not in form
    assert base64.b64decode(headers["Authorization"][6:]).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert challenge == sent["code_challenge"] and form["code"] == "the-code"
    assert created(app) == (1, 1)


BAD_TOKENS = {
    "wrong iss": lambda p, nonce: p.id_token(nonce, CLIENT_ID, iss="https://elsewhere.example"),
    "wrong aud": lambda p, nonce: p.id_token(nonce, "another-client"),
    "several aud, azp another": lambda p, nonce: p.id_token(
        nonce, CLIENT_ID, aud=[CLIENT_ID, "another-client"], azp="another-client"),
    "wrong nonce": lambda p, nonce: p.id_token("another-nonce", CLIENT_ID),
    "no nonce": lambda p, nonce: p.id_token(nonce, CLIENT_ID, drop=("nonce",)),
    "expired": lambda p, nonce: p.id_token(nonce, CLIENT_ID, exp=int(time.time()) - 3600),
    "alg none": lambda p, nonce: p.unsigned_id_token(
        iss=p.issuer, sub="x", aud=CLIENT_ID, iat=int(time.time()),
        exp=int(time.time()) + 300, nonce=nonce),
    "foreign key, published kid": lambda p, nonce: p.id_token(
        nonce, CLIENT_ID, key=ECKey.generate_key("P-256", {"kid": p.signing_key.kid})),
    "foreign key, unknown kid": lambda p, nonce: p.id_token(
        nonce, CLIENT_ID, key=ECKey.generate_key("P-256", {"kid": "not-published"})),
    "not a JWT": lambda p, nonce: "this.is-not.a-jwt",
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_id_token_is_refused_and_nothing_is_created(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str, case: str
) -> None:
    sent = go_upstream(client, rp)
    provider.answer_with(BAD_TOKENS[case](provider, sent["nonce"]))
    back = come_back(client, sent)
    assert back.status_code == 502, back.get_data(as_text=True)
    assert "did not work" in back.get_data(as_text=True)
    assert created(app) == (0, 0)


NONSENSE = {
    "a server error": (500, b"oops"),
    "not JSON": (200, b"<html>hello</html>"),
    "no ID token": (200, json.dumps({"access_token": "at", "token_type": "Bearer"}).encode()),
    "an OAuth error": (400, json.dumps({"error": "invalid_grant"}).encode()),
    "a JSON list": (200, b"[1, 2]"),
}


@pytest.mark.parametrize("case", list(NONSENSE))
def test_nonsense_from_the_token_endpoint_is_a_page_and_nothing_is_created(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str, case: str
) -> None:
    sent = go_upstream(client, rp)
    provider.answer = lambda form: NONSENSE[case]
    back = come_back(client, sent)
    assert back.status_code == 502 and "did not work" in back.get_data(as_text=True)
    assert created(app) == (0, 0)


def test_a_slow_token_endpoint_times_out(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str
) -> None:
    sent = go_upstream(client, rp)

    def slow(form: dict[str, str]) -> tuple[int, bytes]:
        time.sleep(3)
        return 200, b"{}"

    provider.answer = slow
    began = time.monotonic()
    back = come_back(client, sent)
    assert time.monotonic() - began < 2.5  # AUTHSERVER_UPSTREAM_TIMEOUT is 1 s here
    assert back.status_code == 502 and created(app) == (0, 0)


def test_the_provider_keys_are_followed_through_a_rotation_without_hammering_its_jwks(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str
) -> None:
    sent = go_upstream(client, rp)
    provider.answer_with(provider.id_token(sent["nonce"], CLIENT_ID))
    assert come_back(client, sent).status_code == 200
    rotated = ECKey.generate_key("P-256", {"kid": "k2"})
    provider.published[:] = [rotated]
    time.sleep(JWKS_REFETCH_INTERVAL)  # the bound on refetches is the subject
    browser = app.test_client()
    sent = go_upstream(browser, rp)
    provider.answer_with(provider.id_token(sent["nonce"], CLIENT_ID, key=rotated))
    fetches = provider.jwks_fetches
    assert come_back(browser, sent).status_code == 200  # the new kid: the JWKS fetched again
    assert provider.jwks_fetches == fetches + 1, (provider.jwks_fetches, fetches)
    assert created(app) == (1, 1)  # the same user
    # A flood of unknown kids right after: each refused, and at most one more JWKS fetch a
    # JWKS_REFETCH_INTERVAL (the refused tokens checked directly: a whole sign-in each would
    # take longer than the interval).
    upstream = Upstream(issuer=provider.issuer, client_id=CLIENT_ID, client_secret="-",
                        scope="openid", discovery={}, leeway=0, timeout=1,
                        keys=provider_keys(provider.issuer, provider.issuer + "/jwks", 1))
    began, fetches = time.monotonic(), provider.jwks_fetches
    for _ in range(20):
        bogus = ECKey.generate_key("P-256", {"kid": secrets.token_hex(4)})
        with pytest.raises(UpstreamError, match="does not publish"):
            upstream.verify_id_token(provider.id_token("n", CLIENT_ID, key=bogus), "n", int(time.time()))
    allowed = 1 + int((time.monotonic() - began) / JWKS_REFETCH_INTERVAL)
    assert provider.jwks_fetches - fetches <= allowed


def test_an_upstream_sign_in_expires_and_is_pruned(
    app: Flask, client: FlaskClient, provider: HostileProvider, rp: str
) -> None:
    late = go_upstream(client, rp)
    go_upstream(app.test_client(), rp)  # one never answered
    advance_clock(app, UPSTREAM_SIGN_IN_TTL + 1)
    provider.answer_with(provider.id_token(late["nonce"], CLIENT_ID))
    assert come_back(client, late).status_code == 400 and created(app) == (0, 0)
    database = app.extensions["authserver.db"]
    counts = prune(database.session_factory, now=app.extensions["authserver.store"].now())
    assert counts.upstream_sign_ins == 1
