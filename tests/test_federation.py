"""Signing in through another OpenID provider: a real `authserver serve` upstream (over HTTP)
and our app in process. Each way to the local account (new, returning, linked by verified
email, a link refused, no account), each error upstream (denied, bad state, replay,
unreachable), the amr of our ID token, and the login page's provider links."""

# ruff: noqa: F811  (the fixtures imported from federation_support are parameters here)

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver.models import IdentityProvider
from authserver.store.users import create_user

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
    start_at_provider,
    upstream,
    upstream_sign_in,
    users,
)
from .helpers import PASSWORD, csrf, make_client, pkce, verify
from .support import free_port
from .test_code_flow import authorize_url, consent, exchange


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
