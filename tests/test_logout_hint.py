"""RP-Initiated Logout's id_token_hint (OpenID Connect RP-Initiated Logout 1.0 §2-§4), through
Flask's test client: only our own ID token is a hint (not an access token or a logout token
the same keys signed, not a tampered or forged one), its aud must be the client_id given, a
bad hint is an error page that never redirects and ends nothing, and a hint for another user
than the one signed in asks before ending the session."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from .helpers import REDIRECT, csrf, make_client, make_user, pkce
from .test_code_flow import authorize_url, consent, exchange, location_params, login

pytestmark = pytest.mark.usefixtures("no_traceback")
SIGNED_OUT = "https://app.example.com/signed-out"


def _rp(app: Flask) -> str:
    client_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               post_logout_redirect_uris=[SIGNED_OUT], auth_method="none")
    return client_id


@pytest.fixture
def rp(app: Flask) -> str:
    return _rp(app)


def _tokens(client: FlaskClient, rp: str, username: str = "alice") -> dict[str, Any]:
    """A sign-in of `username` (the browser's session after it) and the tokens it got."""
    verifier, challenge = pkce()
    url = authorize_url(rp, challenge)
    page = login(client, url, username)
    answer = consent(client, url, page) if page.status_code == 200 else page
    return dict(exchange(client, rp, location_params(answer)["code"], verifier).json)


def _still_signed_in(client: FlaskClient, rp: str) -> bool:
    _, challenge = pkce()
    return client.get(authorize_url(rp, challenge)).status_code == 302


def _logout(client: FlaskClient, hint: str, **extra: str) -> Any:
    return client.get("/oauth/logout", query_string={
        "id_token_hint": hint, "post_logout_redirect_uri": SIGNED_OUT, "state": "s", **extra})


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{raw}.{signature}"


def _forged(token: str) -> str:
    """The same header (kid included) and claims, signed with a key that is not ours."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"]})


def _unsigned(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


@pytest.mark.parametrize("case", ["access token", "logout token", "tampered", "forged",
                                  "unsigned", "expired long ago with wrong iss"])
@pytest.mark.parametrize("with_client_id", [True, False])
def test_a_hint_that_is_not_our_id_token_is_refused_without_redirect(
    app: Flask, client: FlaskClient, rp: str, user: str, case: str, with_client_id: bool
) -> None:
    tokens = _tokens(client, rp)
    id_token = tokens["id_token"]
    server = app.extensions["authserver.oauth2"]
    if case == "access token":
        hint = tokens["access_token"]
    elif case == "logout token":
        rp_client = app.extensions["authserver.store"].clients.get(rp)
        hint = server.logout_notifier.logout_token(rp_client, user, None)
    elif case == "tampered":
        hint = _tampered(id_token)
    elif case == "forged":
        hint = _forged(id_token)
    elif case == "unsigned":
        hint = _unsigned(id_token)
    else:
        claims = jwt.decode(id_token, options={"verify_signature": False})
        hint = _signed_by_us(app, {**claims, "iss": "https://elsewhere.example",
                                   "exp": int(time.time()) - 86400})
    answer = _logout(client, hint, **({"client_id": rp} if with_client_id else {}))
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert _still_signed_in(client, rp)


def _signed_by_us(app: Flask, claims: dict[str, Any]) -> str:
    from joserfc import jwt as jose_jwt
    keyset = app.extensions["authserver.keystore"].signing_keyset()
    return jose_jwt.encode({"alg": "RS256"}, claims, keyset, algorithms=["RS256"])


def test_a_hint_whose_aud_is_not_the_client_id_is_refused(
    app: Flask, client: FlaskClient, rp: str, user: str
) -> None:
    other = _rp(app)  # the same post-logout URI registered
    id_token = _tokens(client, rp)["id_token"]
    answer = _logout(client, id_token, client_id=other)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert _still_signed_in(client, rp)


def test_our_own_id_token_signs_out_and_redirects(
    client: FlaskClient, rp: str, user: str
) -> None:
    id_token = _tokens(client, rp)["id_token"]
    answer = _logout(client, id_token, client_id=rp)
    assert answer.status_code == 302 and answer.headers["Location"] == f"{SIGNED_OUT}?state=s"
    assert not _still_signed_in(client, rp)


def test_a_hint_for_another_user_asks_before_ending_the_session(
    app: Flask, client: FlaskClient, rp: str, user: str
) -> None:
    make_user(app, "bob")
    bobs = _tokens(client, rp, "bob")["id_token"]
    client.get("/oauth/logout", query_string={"id_token_hint": bobs})  # bob leaves
    _tokens(client, rp, "alice")
    asked = _logout(client, bobs)
    assert asked.status_code == 200 and "Location" not in asked.headers
    html = asked.get_data(as_text=True)
    assert 'name="confirm"' in html
    assert _still_signed_in(client, rp)
    confirmed = client.post("/oauth/logout", data={
        "id_token_hint": bobs, "post_logout_redirect_uri": SIGNED_OUT, "state": "s",
        "confirm": "yes", "csrf_token": csrf(html)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"{SIGNED_OUT}?state=s"
    assert not _still_signed_in(client, rp)
