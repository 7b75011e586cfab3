"""The authorization request validated once and resumed by its steps (/interaction/<id>):
bound to the browser that started it, answered once, expiring, never validated again; a
request asking for a new sign-in (prompt=login) needs one made during the interaction."""

from __future__ import annotations

from typing import Any

import pytest
from authlib.oauth2.rfc6749 import grants
from flask import Flask
from flask.testing import FlaskClient

from authserver.store.housekeeping import prune
from authserver.store.interactions import INTERACTION_TTL

from .helpers import PASSWORD, action, advance_clock, csrf, make_client, pkce
from .test_code_flow import authorize_url, consent, location_params, login

GONE = "expired or was already used"


def _login_page(client: FlaskClient, public_client: str, **extra: str) -> str:
    _, challenge = pkce()
    page = client.get(authorize_url(public_client, challenge, **extra))
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_login_form_posts_to_an_interaction_that_holds_the_request(
    client: FlaskClient, public_client: str, user: str
) -> None:
    html = _login_page(client, public_client, state="kept-state")
    assert action(html).startswith("/interaction/") and action(html).endswith("/login")
    assert "kept-state" not in html  # the request stays on the server, not in the page
    consent_page = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                                   "csrf_token": csrf(html)})
    assert location_params(consent(client, "", consent_page))["state"] == "kept-state"


def test_another_browser_cannot_use_the_interaction(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    html = _login_page(client, public_client)
    stranger = app.test_client()
    assert GONE in stranger.get(action(html).removesuffix("/login")).get_data(as_text=True)
    stranger_page = _login_page(stranger, public_client)  # a form token of the stranger's own
    refused = stranger.post(action(html), data={"username": "alice", "password": PASSWORD,
                                                "csrf_token": csrf(stranger_page)})
    assert refused.status_code == 400 and GONE in refused.get_data(as_text=True)


def test_reloading_an_interaction_shows_the_step_it_is_at(
    client: FlaskClient, public_client: str, user: str
) -> None:
    html = _login_page(client, public_client)
    step = action(html).removesuffix("/login")
    assert 'name="password"' in client.get(step).get_data(as_text=True)
    client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                    "csrf_token": csrf(html)})
    assert 'name="decision"' in client.get(step).get_data(as_text=True)


def test_an_interaction_is_answered_once(client: FlaskClient, public_client: str, user: str) -> None:
    html = _login_page(client, public_client)
    consent_page = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                                   "csrf_token": csrf(html)})
    assert "code" in location_params(consent(client, "", consent_page))
    again = consent(client, "", consent_page)
    assert again.status_code == 400 and GONE in again.get_data(as_text=True)


def test_an_interaction_expires_and_is_pruned(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    html = _login_page(client, public_client)
    advance_clock(app, INTERACTION_TTL + 1)
    late = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                           "csrf_token": csrf(html)})
    assert late.status_code == 400 and GONE in late.get_data(as_text=True)
    database = app.extensions["authserver.db"]
    counts = prune(database.session_factory, now=app.extensions["authserver.store"].now())
    assert counts.interactions == 1


def test_the_steps_do_not_validate_the_request_again(
    app: Flask, client: FlaskClient, public_client: str, user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = _login_page(client, public_client)
    validations: list[Any] = []
    original = grants.AuthorizationCodeGrant.validate_authorization_request
    monkeypatch.setattr(grants.AuthorizationCodeGrant, "validate_authorization_request",
                        lambda self: validations.append(self) or original(self))
    clients = app.extensions["authserver.store"].clients
    lookups: list[str] = []
    original_get = clients.get
    monkeypatch.setattr(clients, "get", lambda client_id: lookups.append(client_id)
                        or original_get(client_id))
    consent_page = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                                   "csrf_token": csrf(html)})
    assert 'name="decision"' in consent_page.get_data(as_text=True)
    assert "code" in location_params(consent(client, "", consent_page))
    assert validations == []
    assert lookups == [public_client, public_client]  # one a step: the stored request's client


def test_prompt_login_needs_a_sign_in_made_during_the_interaction(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    first = login(client, authorize_url(public_client, challenge))
    consent(client, "", first)  # signed in, and consented
    html = _login_page(client, public_client, prompt="login")
    assert 'name="password"' in html
    step = action(html).removesuffix("/login")
    # The sign-in from before the request does not satisfy it: no consent step, no code.
    assert 'name="password"' in client.get(step).get_data(as_text=True)
    refused = client.post(f"{step}/consent", data={"decision": "allow", "csrf_token": csrf(html)})
    assert refused.status_code == 200 and 'name="password"' in refused.get_data(as_text=True)
    signed_in = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                                "csrf_token": csrf(html)})
    assert "code" in location_params(signed_in)  # consent remembered: straight to the client


def test_a_device_approval_is_an_interaction_answered_once(
    app: Flask, client: FlaskClient, user: str
) -> None:
    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    client_id, _ = make_client(app, grant_types=[device_grant], auth_method="none",
                               scope="openid")
    started = client.post("/oauth/device_authorization", data={"client_id": client_id}).json
    form = client.get("/device").get_data(as_text=True)
    login_page = client.post("/device", data={"user_code": started["user_code"],
                                              "csrf_token": csrf(form)}).get_data(as_text=True)
    assert action(login_page).startswith("/interaction/")
    consent_page = client.post(action(login_page), data={
        "username": "alice", "password": PASSWORD, "csrf_token": csrf(login_page)})
    done = consent(client, "", consent_page)
    assert done.status_code == 200 and "Device connected" in done.get_data(as_text=True)
    again = consent(client, "", consent_page)
    assert again.status_code == 400 and GONE in again.get_data(as_text=True)
    tokens = client.post("/oauth/token", data={
        "grant_type": device_grant, "device_code": started["device_code"], "client_id": client_id})
    assert tokens.status_code == 200, tokens.json


def test_a_sign_in_reads_each_thing_once_per_transaction(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    """The login and consent steps: the sign-in made by the login is not read back, the
    user's second factors are looked up once per step, and recording the session's client is
    one INSERT (`python -m bench.signin` counts 25 statements a sign-in on SQLite, from 33)."""
    from .test_client_cache import statements_during

    html = _login_page(client, public_client)
    posted: dict[str, Any] = {}
    login_sql = statements_during(app, lambda: posted.update(page=client.post(
        action(html), data={"username": "alice", "password": PASSWORD,
                            "csrf_token": csrf(html)})))
    consent_sql = statements_during(app, lambda: consent(client, "", posted["page"]))
    assert not [s for s in login_sql if s.startswith("SELECT login_sessions")], login_sql
    assert len([s for s in login_sql if "FROM totp_secrets" in s]) == 1, login_sql
    assert len([s for s in consent_sql if "FROM totp_secrets" in s]) == 1, consent_sql
    assert [s.split()[0] for s in consent_sql if "login_session_clients" in s] == ["INSERT"]
