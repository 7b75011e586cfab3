"""/oauth/authorize takes a form POST like a GET (OIDC Core §3.1.2.1: the server MUST support
both), and reads its parameters the same way; max_age with a digit that is not 0-9 is an
invalid_request back to the client, not a 500."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .helpers import PASSWORD, REDIRECT, action, pkce
from .test_code_flow import exchange, location_params


def _hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def _authorization_form(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "scope": "openid profile", "state": "posted-state", "nonce": "posted-nonce",
            "code_challenge": challenge, "code_challenge_method": "S256", **extra}


def test_a_form_post_authorization_request_completes_the_code_flow(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    page = client.post("/oauth/authorize", data=_authorization_form(public_client, challenge))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert 'name="username"' in html
    # The posted request is kept with the interaction: the login form carries none of it.
    assert action(html).startswith("/interaction/") and "posted-state" not in html
    consent_page = client.post(action(html), data={
        **_hidden_fields(html), "username": "alice", "password": PASSWORD})
    assert 'name="decision"' in consent_page.get_data(as_text=True)
    decided = client.post(action(consent_page.get_data(as_text=True)), data={
        **_hidden_fields(consent_page.get_data(as_text=True)), "decision": "allow"})
    params = location_params(decided)
    assert params["state"] == "posted-state"
    tokens = exchange(client, public_client, params["code"], verifier)
    assert tokens.status_code == 200, tokens.json
    assert "id_token" in tokens.json


def test_a_posted_login_without_the_csrf_token_is_refused(
    client: FlaskClient, public_client: str, user: str
) -> None:
    _, challenge = pkce()
    page = client.post("/oauth/authorize", data=_authorization_form(public_client, challenge))
    refused = client.post(action(page.get_data(as_text=True)),
                          data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 400
    assert "did not come from this site" in refused.get_data(as_text=True)


def test_a_post_for_an_unknown_client_is_an_error_page_not_a_redirect(client: FlaskClient) -> None:
    _, challenge = pkce()
    response = client.post("/oauth/authorize", data=_authorization_form("nobody", challenge))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not registered" in response.get_data(as_text=True)


def _signed_in(client: FlaskClient, public_client: str) -> Any:
    _, challenge = pkce()
    page = client.post("/oauth/authorize", data=_authorization_form(public_client, challenge))
    return client.post(action(page.get_data(as_text=True)), data={
        **_hidden_fields(page.get_data(as_text=True)), "username": "alice", "password": PASSWORD})


def test_max_age_with_a_non_ascii_digit_is_invalid_request_not_a_server_error(
    client: FlaskClient, public_client: str, user: str
) -> None:
    assert 'name="decision"' in _signed_in(client, public_client).get_data(as_text=True)
    _, challenge = pkce()
    query = _authorization_form(public_client, challenge, max_age="\u00b2")
    params = location_params(client.get("/oauth/authorize", query_string=query))
    assert params["error"] == "invalid_request" and params["state"] == "posted-state"
