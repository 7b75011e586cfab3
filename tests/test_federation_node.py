"""Signing in through node oidc-provider (a provider we did not write), over real HTTP: a new
user, then the same identity again after the provider's signing key changed (a restart with a
new key and kid: our JWKS cache follows)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.models import User
from authserver.oauth.upstream import JWKS_REFETCH_INTERVAL, read_discovery
from authserver.store.idps import create_idp

from .federation_support import (  # noqa: F401 (the settings fixture)
    OUR_ISSUER,
    SLUG,
    finish_consent,
    settings,
    start_at_provider,
)
from .helpers import make_client, pkce, verify
from .support import free_port
from .test_code_flow import authorize_url, exchange

CLIENT_ID, CLIENT_SECRET = "downstream", "a secret of at least thirty-two characters"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class NodeProvider:
    def __init__(self, script: Path, port: int) -> None:
        self.script, self.port = script, port
        self.issuer = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, kid: str) -> None:
        self.process = subprocess.Popen(
            ["node", str(self.script), str(self.port), CLIENT_ID, CLIENT_SECRET,
             f"{OUR_ISSUER}/login/idp/{SLUG}/callback", kid],
            cwd=self.script.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("node oidc-provider did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node_provider(node_rp: Path) -> Iterator[NodeProvider]:
    provider = NodeProvider(node_rp.parent / "op.mjs", free_port())
    provider.start("k1")
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def rp(app: Flask, node_provider: NodeProvider) -> str:
    with app.extensions["authserver.db"].session() as session:
        create_idp(session, slug=SLUG, name="Node", issuer=node_provider.issuer,
                   client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                   scope="openid email profile", link_by_email=False, create_users=True,
                   passphrase=None, discovery=read_discovery(node_provider.issuer, 5))
    client_id, _ = make_client(app, grant_types=["authorization_code"],
                               redirect_uris=["https://app.example.com/callback"],
                               auth_method="none")
    return client_id


def node_sign_in(location: str, login: str) -> str:
    """A browser through oidc-provider's development login and consent pages; returns our
    callback (path and query)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(location)
        for _ in range(12):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["Location"])
                if target.startswith(OUR_ISSUER):
                    return target.removeprefix(OUR_ISSUER)
                response = browser.get(target)
                continue
            html = response.text
            form = re.search(r'<form[^>]*action="([^"]+)"', html)
            assert form, html
            fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
            if 'name="login"' in html:
                fields.update(login=login, password="any")
            response = browser.post(urljoin(str(response.url), form.group(1)), data=fields)
    raise AssertionError("oidc-provider did not send the browser back")


def sign_in(app: Flask, client: FlaskClient, rp: str, login: str) -> dict[str, object]:
    verifier, challenge = pkce()
    back = client.get(node_sign_in(start_at_provider(client, authorize_url(rp, challenge)), login))
    params = finish_consent(client, back)
    token = exchange(client, rp, params["code"], verifier).get_json()
    return verify(app, token["id_token"], rp)


def test_a_node_oidc_provider_identity_becomes_a_user_and_stays_one_across_its_key_rotation(
    app: Flask, client: FlaskClient, rp: str, node_provider: NodeProvider
) -> None:
    first = sign_in(app, client, rp, "grace")
    assert first["amr"] == ["fed"]
    with app.extensions["authserver.db"].session() as session:
        [grace] = session.scalars(select(User)).all()
        assert (grace.username, grace.email, grace.name) == ("grace", "grace@node.example",
                                                             "Node grace")
        assert grace.claims["email_verified"] is True
    node_provider.stop()
    node_provider.start("k2")  # a new signing key, under a kid we have not seen
    # An unknown kid sends us to the JWKS again at most once per interval (a bound of its own,
    # tests/test_federation_hostile.py): a restart quicker than that would meet the bound.
    time.sleep(JWKS_REFETCH_INTERVAL)
    again = sign_in(app, app.test_client(), rp, "grace")
    assert again["sub"] == first["sub"]
    with app.extensions["authserver.db"].session() as session:
        assert len(session.scalars(select(User)).all()) == 1
