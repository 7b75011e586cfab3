"""Signing in through another OpenID provider: a real `authserver serve` upstream (over HTTP)
and our app in process. Each way to the local account (new, returning, linked by verified
email, a link refused, no account), each error upstream (denied, bad state, replay,
unreachable), the amr of our ID token, and the `idp` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.config import Settings
from authserver.models import IdentityProvider, LinkedIdentity, User
from authserver.store.users import create_user

from .federation_support import (
    OUR_ISSUER,
    SLUG,
    Upstream,
    add_idp,
    finish_consent,
    loopback_settings,
    prepare_upstream,
    start_at_provider,
    upstream_sign_in,
)
from .helpers import PASSWORD, csrf, make_client, pkce, verify
from .support import cli_in_process, free_port, start_server
from .support import copy_keys as copy_keys_for
from .test_code_flow import authorize_url, consent, exchange, login


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, key_template: Path) -> Iterator[Upstream]:
    workdir = tmp_path_factory.mktemp("upstream")
    database_url, port = f"sqlite:///{workdir / 'up.db'}", free_port()
    keys_dir = copy_keys_for(key_template, workdir)
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


def test_a_new_identity_gets_a_new_user_without_password_and_an_id_token_without_pwd(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str, no_traceback: None
) -> None:
    add_idp(app, upstream)
    params, verifier = sign_in_through_upstream(client, rp)
    token = exchange(client, rp, params["code"], verifier).get_json()
    claims = verify(app, token["id_token"], rp)
    assert claims["amr"] == ["fed"] and "pwd" not in claims["amr"]
    [created] = users(app)
    assert claims["sub"] == created.sub != "ada"
    assert (created.username, created.email, created.name) == ("ada", "ada@example.com",
                                                               "Ada Lovelace")
    assert created.claims["email_verified"] is True and created.claims["given_name"] == "Ada"
    assert created.password_hash == "" and len(identities(app)) == 1
    # No password signs this user in, not even an empty one.
    store = app.extensions["authserver.store"]
    with app.app_context():
        assert store.users.authenticate("ada", "") is None
        assert store.users.authenticate("ada", PASSWORD) is None
        store.close()
    # The upstream's ID token is not passed on: ours is signed by us, for our client.
    assert claims["iss"] == OUR_ISSUER


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_a_device_approved_after_a_federated_sign_in_gets_no_pwd_either(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    sign_in_through_upstream(client, rp)  # this browser's sign-in came from the provider
    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    tv, _ = make_client(app, grant_types=[device_grant], auth_method="none", scope="openid")
    started = client.post("/oauth/device_authorization", data={"client_id": tv}).get_json()
    form = client.get("/device").get_data(as_text=True)
    consent_page = client.post("/device", data={"user_code": started["user_code"],
                                                "csrf_token": csrf(form)})
    assert "Device connected" in consent(client, "", consent_page).get_data(as_text=True)
    tokens = client.post("/oauth/token", data={
        "grant_type": device_grant, "device_code": started["device_code"], "client_id": tv})
    assert verify(app, tokens.get_json()["id_token"], tv)["amr"] == ["fed"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_a_returning_identity_signs_in_as_the_same_user(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    first, verifier = sign_in_through_upstream(client, rp)
    sub = verify(app, exchange(client, rp, first["code"], verifier).get_json()["id_token"], rp)["sub"]
    other_browser = app.test_client()
    second, verifier = sign_in_through_upstream(other_browser, rp)
    again = verify(app, exchange(other_browser, rp, second["code"], verifier).get_json()["id_token"], rp)
    assert again["sub"] == sub and len(users(app)) == 1


def _local_alice(app: Flask, verified: bool) -> str:
    with app.extensions["authserver.db"].session() as session:
        alice = create_user(session, username="alice", password=PASSWORD, email="ada@example.com")
        alice.claims = {"email_verified": verified}
        return alice.sub


def test_link_by_email_when_both_sides_say_verified(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    alice = _local_alice(app, verified=True)
    add_idp(app, upstream, link_by_email=True)
    params, verifier = sign_in_through_upstream(client, rp)
    claims = verify(app, exchange(client, rp, params["code"], verifier).get_json()["id_token"], rp)
    assert claims["sub"] == alice and len(users(app)) == 1 and len(identities(app)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
@pytest.mark.parametrize("case", ["local email not verified", "upstream email not verified",
                                  "linking by email not allowed"])
def test_no_link_by_email_unless_allowed_and_verified_on_both_sides(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str, case: str
) -> None:
    if case == "upstream email not verified":  # eve at the upstream says alice@example.com
        with app.extensions["authserver.db"].session() as session:
            alice = create_user(session, username="alice", password=PASSWORD,
                                email="alice@example.com")
            alice.claims = {"email_verified": True}
            alice_sub = alice.sub
    else:
        alice_sub = _local_alice(app, verified=case == "linking by email not allowed")
    add_idp(app, upstream, link_by_email=case != "linking by email not allowed")
    username = "eve" if case == "upstream email not verified" else "ada"
    params, verifier = sign_in_through_upstream(client, rp, username=username)
    claims = verify(app, exchange(client, rp, params["code"], verifier).get_json()["id_token"], rp)
    assert claims["sub"] != alice_sub and len(users(app)) == 2  # a new user, alice untouched
    [(linked_user, _)] = identities(app)
    assert linked_user != users(app)[0].id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_no_create_users_says_there_is_no_account_and_creates_nothing(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream, create_users=False)
    _, challenge = pkce()
    back = client.get(upstream_sign_in(start_at_provider(client, authorize_url(rp, challenge))))
    assert back.status_code == 403 and "no account here" in back.get_data(as_text=True)
    assert users(app) == [] and identities(app) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_upstream_denial_brings_the_user_back_to_a_page_that_says_so(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    _, challenge = pkce()
    location = start_at_provider(client, authorize_url(rp, challenge))
    # Dan never consents at the upstream: he denies on its consent page.
    back = client.get(upstream_sign_in(location, username="dan", decision="deny"))
    html = back.get_data(as_text=True)
    assert back.status_code == 400 and "did not allow Upstream" in html
    assert "/interaction/" in html  # a way back to the sign-in page
    assert users(app) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_a_callback_is_used_once_and_only_by_the_browser_that_started_it(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    _, challenge = pkce()
    callback = upstream_sign_in(start_at_provider(client, authorize_url(rp, challenge)))
    stranger = app.test_client()
    refused = stranger.get(callback)  # another browser: not its state; and now spent
    assert refused.status_code == 400 and "not one this browser" in refused.get_data(as_text=True)
    replay = client.get(callback)
    assert replay.status_code == 400 and users(app) == []
    forged = client.get(callback.replace("state=", "state=x"))
    assert forged.status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_an_unreachable_token_endpoint_is_a_page_and_nothing_is_created(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    with app.extensions["authserver.db"].session() as session:
        idp = session.scalar(select(IdentityProvider))
        assert idp is not None
        idp.discovery = {**idp.discovery, "token_endpoint": f"http://127.0.0.1:{free_port()}/token"}
    _, challenge = pkce()
    back = client.get(upstream_sign_in(start_at_provider(client, authorize_url(rp, challenge))))
    assert back.status_code == 502 and "did not work" in back.get_data(as_text=True)
    assert users(app) == [] and identities(app) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the flow is the subject
def test_the_login_page_links_each_provider_with_its_interaction(
    app: Flask, client: FlaskClient, upstream: Upstream, rp: str
) -> None:
    add_idp(app, upstream)
    _, challenge = pkce()
    html = client.get(authorize_url(rp, challenge)).get_data(as_text=True)
    assert f'href="/login/idp/{SLUG}?interaction=' in html and "Sign in with Upstream" in html
    assert client.get(f"/login/idp/{SLUG}?interaction=nope").status_code == 400
    assert client.get("/login/idp/unknown?interaction=x").status_code == 404


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
