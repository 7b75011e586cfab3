"""`claims` asking for a particular `sub` (OIDC Core §3.1.2.2, §5.5.1), through Flask's test
client: the answer is positive only for that end-user. Another user signed in is asked to sign
in as the one asked for (prompt=none: login_required), and signing in as anyone else gives no
code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .helpers import PASSWORD, REDIRECT, action, csrf, make_client, make_user, pkce, verify
from .test_code_flow import authorize_url, consent, exchange, location_params, login

pytestmark = pytest.mark.usefixtures("no_traceback")


@pytest.fixture
def rp(app: Flask) -> str:
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none", scope="openid profile email")
    return client_id


@pytest.fixture
def bob(app: Flask) -> str:
    return make_user(app, "bob")


def _asking_for(sub: Any, target: str = "id_token") -> str:
    return json.dumps({target: {"sub": {"value": sub}}})


def _signed_in_as_alice(client: FlaskClient, rp: str) -> None:
    _, challenge = pkce()
    url = authorize_url(rp, challenge)
    location_params(consent(client, url, login(client, url)))


@pytest.mark.parametrize("target", ["id_token", "userinfo"])
def test_another_users_sub_asks_for_a_sign_in_as_that_user(
    app: Flask, client: FlaskClient, rp: str, user: str, bob: str, target: str
) -> None:
    _signed_in_as_alice(client, rp)
    verifier, challenge = pkce()
    url = authorize_url(rp, challenge, claims=_asking_for(bob, target))
    page = client.get(url)
    assert page.status_code == 200 and "Location" not in page.headers
    html = page.get_data(as_text=True)
    assert 'name="password"' in html and "another account" in html
    # Alice signing in again is not who was asked for: no code, and no sign-in.
    as_alice = client.post(action(html), data={"username": "alice", "password": PASSWORD,
                                              "csrf_token": csrf(html)})
    assert as_alice.status_code == 401 and "Location" not in as_alice.headers
    assert "another account" in as_alice.get_data(as_text=True)
    as_bob = client.post(action(html), data={
        "username": "bob", "password": PASSWORD, "csrf_token": csrf(as_alice.get_data(as_text=True))})
    code = location_params(consent(client, url, as_bob))["code"]
    tokens = exchange(client, rp, code, verifier).json
    assert verify(app, tokens["id_token"], rp)["sub"] == bob


def test_another_users_sub_with_prompt_none_is_login_required(
    client: FlaskClient, rp: str, user: str, bob: str
) -> None:
    _signed_in_as_alice(client, rp)
    _, challenge = pkce()
    answer = client.get(authorize_url(rp, challenge, prompt="none", claims=_asking_for(bob)))
    params = location_params(answer)
    assert params["error"] == "login_required" and "code" not in params


def test_the_signed_in_users_own_sub_is_answered_at_once(
    app: Flask, client: FlaskClient, rp: str, user: str
) -> None:
    _signed_in_as_alice(client, rp)
    verifier, challenge = pkce()
    params = location_params(client.get(authorize_url(rp, challenge, claims=_asking_for(user))))
    tokens = exchange(client, rp, params["code"], verifier).json
    assert verify(app, tokens["id_token"], rp)["sub"] == user


@pytest.mark.parametrize("value", [5, None, ["a"], {"x": 1}])
def test_a_sub_value_that_is_not_a_string_is_invalid_request(
    client: FlaskClient, rp: str, user: str, value: Any
) -> None:
    _signed_in_as_alice(client, rp)
    _, challenge = pkce()
    params = location_params(client.get(authorize_url(rp, challenge, claims=_asking_for(value))))
    assert params["error"] == "invalid_request" and "code" not in params
