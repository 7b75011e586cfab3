"""Managing providers and linked identities, with a real `authserver serve` upstream (over
HTTP) and our app in process: the `idp` commands, the provider's client secret sealed under a
passphrase, `user show` listing a user's identities, and linking a provider from the account
page and unlinking it, but never a user's last way to sign in."""

# ruff: noqa: F811  (the fixtures imported from federation_support are parameters here)

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.config import Settings
from authserver.models import IdentityProvider

from .federation_support import (  # noqa: F401 (the upstream, settings and rp fixtures)
    OUR_ISSUER,
    SLUG,
    Upstream,
    _local_alice,
    add_idp,
    identities,
    rp,
    settings,
    sign_in_through_upstream,
    upstream,
    upstream_sign_in,
    users,
)
from .helpers import csrf, pkce
from .support import cli_in_process, free_port
from .test_code_flow import authorize_url, login


def _cli(settings: Settings, *args: str, stdin: str = "", **extra: str) -> tuple[int, str]:
    env = {"AUTHSERVER_DATABASE_URL": settings.database_url, "AUTHSERVER_ISSUER": OUR_ISSUER,
           "AUTHSERVER_KEYS_DIR": settings.keys_dir, "AUTHSERVER_INSTANCE_DIR": settings.instance_dir,
           "AUTHSERVER_ALLOW_INSECURE_ISSUER": "1", "AUTHSERVER_AUDIT_LOG": "/dev/null", **extra}
    result = cli_in_process(list(args), stdin=stdin, env=env)  # no other AUTHSERVER_* of ours
    return result.returncode, result.stdout + result.stderr if result.returncode else result.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_idp_commands(settings: Settings, upstream: Upstream, app: Flask) -> None:
    issuer = upstream.server.base_url
    code, out = _cli(settings, "idp", "create", "--name", "Upstream Corp", "--issuer", issuer,
                     "--client-id", upstream.client_id, "--client-secret-stdin", "--json",
                     stdin=upstream.client_secret + "\n")
    assert code == 0, out
    created = json.loads(out)
    assert created == {**created, "slug": "upstream-corp", "name": "Upstream Corp",
                       "issuer": issuer, "client_id": upstream.client_id,
                       "scope": "openid email profile",
                       "redirect_uri": f"{OUR_ISSUER}/login/idp/upstream-corp/callback"}
    assert "client_secret" not in created
    code, out = _cli(settings, "idp", "list", "--json")
    assert [i["slug"] for i in json.loads(out)["idps"]] == ["upstream-corp"]
    code, out = _cli(settings, "idp", "show", "upstream-corp")
    assert code == 0 and "redirect_uri" in out
    # Discovery that cannot be read, or names another issuer: exit 1, nothing written.
    code, out = _cli(settings, "idp", "create", "--name", "Down", "--issuer",
                     f"http://127.0.0.1:{free_port()}", "--client-id", "x",
                     "--client-secret-stdin", stdin="s\n")
    assert code == 1 and "the provider's discovery could not be read" in out
    assert "Errno" not in out and "refused" not in out.lower()
    code, out = _cli(settings, "idp", "create", "--name", "Liar", "--issuer", issuer + "/other",
                     "--client-id", "x", "--client-secret-stdin", stdin="s\n")
    assert code == 1 and "could not be read" in out or "names the issuer" in out
    code, out = _cli(settings, "idp", "create", "--name", "Dup", "--slug", "upstream-corp",
                     "--issuer", issuer, "--client-id", "x", "--client-secret-stdin", stdin="s\n")
    assert code == 2 and "already exists" in out
    code, out = _cli(settings, "idp", "list", "--json")
    assert len(json.loads(out)["idps"]) == 1
    code, out = _cli(settings, "idp", "delete", "upstream-corp")
    assert code == 0 and _cli(settings, "idp", "show", "upstream-corp")[0] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_the_client_secret_is_sealed_when_a_passphrase_is_set(
    settings: Settings, upstream: Upstream, app: Flask
) -> None:
    code, out = _cli(settings, "idp", "create", "--name", "Sealed", "--issuer",
                     upstream.server.base_url, "--client-id", upstream.client_id,
                     "--client-secret-stdin", stdin=upstream.client_secret + "\n",
                     AUTHSERVER_KEYS_PASSPHRASE="a passphrase for the test")
    assert code == 0, out
    with app.extensions["authserver.db"].session() as session:
        stored = session.scalar(select(IdentityProvider.client_secret))
    assert stored is not None and stored.startswith("sealed:")
    assert upstream.client_secret not in stored


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_user_show_lists_identities(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str, settings: Settings
) -> None:
    add_idp(app, upstream)
    sign_in_through_upstream(client, rp)
    [(_, sub)] = identities(app)
    code, out = _cli(settings, "user", "show", "ada", "--json")
    assert code == 0 and json.loads(out)["identities"] == [{"idp": SLUG, "sub": sub}]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_a_signed_in_user_links_a_provider_and_unlinks_it_but_never_the_last_way_in(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    _local_alice(app, verified=False)
    add_idp(app, upstream)
    _, challenge = pkce()
    consent_page = login(client, authorize_url(rp, challenge))  # alice, by password
    token = csrf(consent_page.get_data(as_text=True))
    started = client.post(f"/login/idp/{SLUG}/link", data={"csrf_token": token})
    assert started.status_code == 303
    linked = client.get(upstream_sign_in(started.headers["Location"]))
    assert linked.status_code == 303 and len(identities(app)) == 1 and len(users(app)) == 1
    assert linked.headers["Location"].endswith("/account")
    account = client.get("/account").get_data(as_text=True)
    assert f'action="/login/idp/{SLUG}/unlink"' in account  # listed, and alice has a password
    assert client.post(f"/login/idp/{SLUG}/unlink", data={"csrf_token": token}).status_code == 303
    assert identities(app) == []
    assert f'action="/login/idp/{SLUG}/link"' in client.get("/account").get_data(as_text=True)
    # A user made by the provider has no password: their one link stays.
    other = app.test_client()
    sign_in_through_upstream(other, rp)
    other_token = csrf(other.get(authorize_url(rp, challenge, prompt="consent")).get_data(as_text=True))
    refused = other.post(f"/login/idp/{SLUG}/unlink", data={"csrf_token": other_token})
    assert refused.status_code == 400 and "only way to sign in" in refused.get_data(as_text=True)
    assert len(identities(app)) == 1
    # Without the form's token nothing starts.
    assert client.post(f"/login/idp/{SLUG}/link").status_code == 400
