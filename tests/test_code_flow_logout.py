"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) after a code flow: a redirect
only to a registered post_logout_redirect_uri and only with a valid id_token_hint, a
confirmation otherwise, and none from another site."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .helpers import (
    REDIRECT,
    csrf,
    make_client,
    pkce,
)
from .test_code_flow import authorize_url, exchange, get_code, location_params, login

SIGNED_OUT = "https://app.example.com/signed-out"


@pytest.fixture
def logout_client(app: Flask) -> str:
    client_id, _ = make_client(
        app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
        post_logout_redirect_uris=[SIGNED_OUT], auth_method="none",
    )
    return client_id


def _id_token(client: FlaskClient, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)["code"]
    return exchange(client, client_id, code, verifier).json["id_token"], challenge


def test_logout_redirects_only_to_a_registered_post_logout_uri(
    app: Flask, client: FlaskClient, logout_client: str, user: str
) -> None:
    id_token, challenge = _id_token(client, logout_client)
    evil = client.get("/oauth/logout", query_string={
        "id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example.com/"})
    assert evil.status_code == 200 and "Location" not in evil.headers
    assert "signed out" in evil.get_data(as_text=True)
    # Signed in again; the consent is remembered, so the code comes at once.
    assert location_params(login(client, authorize_url(logout_client, challenge)))["code"]
    # A redirect URI is not a post-logout redirect URI (RP-Initiated Logout §3.1).
    not_for_logout = client.get("/oauth/logout", query_string={
        "id_token_hint": id_token, "post_logout_redirect_uri": REDIRECT})
    assert not_for_logout.status_code == 200 and "Location" not in not_for_logout.headers
    assert location_params(login(client, authorize_url(logout_client, challenge)))["code"]
    good = client.get("/oauth/logout", query_string={
        "id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"})
    assert good.status_code == 302 and good.headers["Location"] == f"{SIGNED_OUT}?state=bye"
    # The session is over: the next authorization asks for the password again.
    page = client.get(authorize_url(logout_client, challenge))
    assert 'name="password"' in page.get_data(as_text=True)


def test_logout_without_an_id_token_hint_asks_first_and_never_redirects(
    client: FlaskClient, logout_client: str, user: str
) -> None:
    _, challenge = _id_token(client, logout_client)
    asked = client.get("/oauth/logout", query_string={
        "client_id": logout_client, "post_logout_redirect_uri": SIGNED_OUT, "state": "s"})
    assert asked.status_code == 200 and "Location" not in asked.headers
    html = asked.get_data(as_text=True)
    assert 'name="confirm"' in html
    # Nothing happened yet: the session still stands.
    assert location_params(client.get(authorize_url(logout_client, challenge)))["code"]
    confirmed = client.post("/oauth/logout", data={
        "client_id": logout_client, "post_logout_redirect_uri": SIGNED_OUT, "state": "s",
        "confirm": "yes", "csrf_token": csrf(html)})
    assert confirmed.status_code == 200 and "Location" not in confirmed.headers
    assert "signed out" in confirmed.get_data(as_text=True)
    page = client.get(authorize_url(logout_client, challenge))
    assert 'name="password"' in page.get_data(as_text=True)


def test_a_logout_confirmation_from_another_site_is_refused(
    client: FlaskClient, logout_client: str, user: str
) -> None:
    _, challenge = _id_token(client, logout_client)
    forged = client.post("/oauth/logout", data={"client_id": logout_client, "confirm": "yes"})
    assert forged.status_code == 400
    assert location_params(client.get(authorize_url(logout_client, challenge)))["code"]


def test_a_garbage_id_token_hint_is_an_error_page_without_redirect(client: FlaskClient) -> None:
    response = client.get("/oauth/logout", query_string={
        "id_token_hint": "not.a.jwt", "post_logout_redirect_uri": SIGNED_OUT})
    assert response.status_code == 400 and "Location" not in response.headers
