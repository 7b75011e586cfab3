"""What the federation tests share: an upstream `authserver serve` with a client for us and a
person to sign in, our app registered with it, and a browser that clicks through both; and, for
tests/test_federation.py and tests/test_federation_manage.py, the module's upstream serve, our
app's settings and relying party (fixtures), and the users and linked identities it holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.config import Settings
from authserver.db import Database, migrate
from authserver.models import LinkedIdentity, User
from authserver.oauth.upstream import read_discovery
from authserver.store.clients import register_client
from authserver.store.idps import create_idp
from authserver.store.users import create_user

from .helpers import PASSWORD, REDIRECT, action, csrf, make_client, pkce
from .support import ServerProcess, copy_keys, free_port, start_server
from .test_code_flow import authorize_url

# Our in-process app's issuer: loopback http, which the upstream accepts in a redirect URI.
OUR_ISSUER = "http://127.0.0.1:9"
SLUG = "up"


def loopback_settings(settings: Settings) -> Settings:
    """The test's settings at our loopback issuer, with a short upstream timeout."""
    return replace(settings, issuer=OUR_ISSUER, api_audience="", upstream_timeout=2).with_defaults()


@dataclass
class Upstream:
    server: ServerProcess
    client_id: str
    client_secret: str


def prepare_upstream(database_url: str, keys_dir: Path, issuer: str) -> tuple[str, str]:
    """Before the upstream starts, in its database (in process: four CLI runs cost seconds
    each): our client there, and the people who sign in there: Ada (verified email), Eve (an
    email she never verified), Dan (who will deny). Returns the client's id and secret."""
    settings = Settings(issuer=issuer, database_url=database_url, keys_dir=str(keys_dir),
                        allow_insecure_issuer=True).with_defaults()
    migrate(settings)
    database = Database(settings)
    try:
        with database.session() as session:
            registered = register_client(
                session, name="the downstream authserver", grant_types=["authorization_code"],
                scope="openid email profile",
                redirect_uris=[f"{OUR_ISSUER}/login/idp/{SLUG}/callback"])
            ada = create_user(session, username="ada", password=PASSWORD, email="ada@example.com",
                              name="Ada Lovelace")
            ada.claims = {"email_verified": True, "given_name": "Ada"}
            create_user(session, username="eve", password=PASSWORD, email="alice@example.com")
            create_user(session, username="dan", password=PASSWORD)
            return registered.client.client_id, registered.client_secret or ""
    finally:
        database.dispose()


def add_idp(app: Flask, upstream: Upstream, **options: Any) -> None:
    discovery = read_discovery(upstream.server.base_url, 5)
    with app.extensions["authserver.db"].session() as session:
        create_idp(session, slug=SLUG, name="Upstream", issuer=upstream.server.base_url,
                   client_id=upstream.client_id, client_secret=upstream.client_secret,
                   scope="openid email profile", discovery=discovery, passphrase=None,
                   **{"link_by_email": False, "create_users": True, **options})


def provider_link(html: str) -> str:
    match = re.search(r'href="(/login/idp/[^"]+)"', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def upstream_sign_in(location: str, username: str = "ada", decision: str = "allow") -> str:
    """A browser at the upstream: its login (and consent, the first time); returns where the
    upstream sends the browser back to (our callback, as a path with its query)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        page = browser.get(location)
        assert page.status_code == 200, page.text
        base = f"{urlsplit(location).scheme}://{urlsplit(location).netloc}"
        answer = browser.post(base + action(page.text), data={
            "username": username, "password": PASSWORD, "csrf_token": csrf(page.text)})
        if answer.status_code == 200:  # the upstream's consent page
            answer = browser.post(base + action(answer.text), data={
                "decision": decision, "csrf_token": csrf(answer.text)})
        assert answer.status_code in (302, 303), answer.text
        back = answer.headers["Location"]
    assert back.startswith(f"{OUR_ISSUER}/login/idp/{SLUG}/callback"), back
    return back.removeprefix(OUR_ISSUER)


def start_at_provider(client: FlaskClient, authorize: str) -> str:
    """Our login page, its provider link, and where that sends the browser (the upstream)."""
    page = client.get(authorize)
    assert page.status_code == 200
    started = client.get(provider_link(page.get_data(as_text=True)))
    assert started.status_code == 303, started.get_data(as_text=True)
    return str(started.headers["Location"])


def finish_consent(client: FlaskClient, response: Any) -> dict[str, str]:
    """Our consent page after the callback (allowed), and the client's code."""
    html = response.get_data(as_text=True)
    if response.status_code == 200 and 'name="decision"' in html:
        response = client.post(action(html), data={"decision": "allow", "csrf_token": csrf(html)})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> Iterator[Upstream]:
    workdir = tmp_path_factory.mktemp("upstream")
    database_url, port = f"sqlite:///{workdir / 'up.db'}", free_port()
    keys_dir = copy_keys(key_template, workdir)
    client_id, secret = prepare_upstream(database_url, keys_dir, f"http://127.0.0.1:{port}")
    server = start_server(workdir, database_url=database_url, keys_dir=keys_dir, workers=1,
                          port=port)
    try:
        yield Upstream(server, client_id, secret)
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return loopback_settings(settings)


@pytest.fixture
def rp(app: Flask) -> str:
    client_id, _ = make_client(app, grant_types=["authorization_code"],
                               redirect_uris=["https://app.example.com/callback"],
                               auth_method="none")
    return client_id


def users(app: Flask) -> list[User]:
    with app.extensions["authserver.db"].session() as session:
        return list(session.scalars(select(User).order_by(User.id)))


def identities(app: Flask) -> list[tuple[int, str]]:
    with app.extensions["authserver.db"].session() as session:
        return [(i.user_id, i.sub) for i in session.scalars(select(LinkedIdentity))]


def sign_in_through_upstream(client: FlaskClient, rp: str,
                             **upstream_options: str) -> tuple[dict[str, str], str]:
    """The whole way: our login page, the upstream, back; returns our client's code and the
    PKCE verifier."""
    verifier, challenge = pkce()
    location = start_at_provider(client, authorize_url(rp, challenge))
    back = client.get(upstream_sign_in(location, **upstream_options))
    return finish_consent(client, back), verifier


def _local_alice(app: Flask, verified: bool) -> str:
    with app.extensions["authserver.db"].session() as session:
        alice = create_user(session, username="alice", password=PASSWORD, email="ada@example.com")
        alice.claims = {"email_verified": verified}
        return alice.sub
