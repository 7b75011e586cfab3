"""PAR and FAPI details, through Flask's test client: a private_key_jwt assertion at the PAR
endpoint may name the issuer, the token endpoint or the PAR endpoint as its audience (RFC 9126
§2), except a FAPI 2.0 client's, whose audience is the issuer only (FAPI 2.0 §5.3.2.1); and a
FAPI 2.0 client's pushed request must name its redirect_uri (FAPI 2.0 §5.3.2.2)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from .helpers import REDIRECT, make_client, pkce
from .test_private_key_jwt import ASSERTION_TYPE, ISSUER, assertion, public_jwks

pytestmark = pytest.mark.usefixtures("no_traceback")
AUDIENCES = {"issuer": ISSUER, "token endpoint": f"{ISSUER}/oauth/token",
             "PAR endpoint": f"{ISSUER}/oauth/par"}


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _client(app: Flask, key: rsa.RSAPrivateKey, **extra: Any) -> str:
    client_id, _ = make_client(app, auth_method="private_key_jwt", jwks=_jwks(key),
                               grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               scope="openid profile", **extra)
    return client_id


def _jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The client's key for PS256 (the helper's says alg RS256)."""
    return {"keys": [{**public_jwks(key)["keys"][0], "alg": "PS256"}]}


def _signed(key: rsa.RSAPrivateKey, client_id: str, audience: str) -> str:
    # PS256: what every profile accepts (FAPI 2.0 §5.4.1 leaves RS256 out).
    claims = jwt.decode(assertion(key, client_id, aud=audience),
                        options={"verify_signature": False})
    return jwt.encode(claims, key, algorithm="PS256", headers={"kid": "client-key-1"})


def _push(client: FlaskClient, client_id: str, signed: str, **extra: str) -> Any:
    _, challenge = pkce()
    form = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed, **extra}
    return client.post("/oauth/par", data={k: v for k, v in form.items() if v != ""})


@pytest.mark.parametrize("audience", list(AUDIENCES))
def test_an_assertion_at_par_may_name_any_of_the_servers_audiences(
    app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey, audience: str
) -> None:
    client_id = _client(app, client_key)
    answer = _push(client, client_id, _signed(client_key, client_id, AUDIENCES[audience]))
    assert answer.status_code == 201, answer.json


def test_the_par_endpoint_is_no_audience_at_the_token_endpoint(
    app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey
) -> None:
    client_id, _ = make_client(app, auth_method="private_key_jwt", scope="profile",
                               jwks=_jwks(client_key))
    answer = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _signed(client_key, client_id, AUDIENCES["PAR endpoint"])})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_client"


@pytest.mark.parametrize(("audience", "status"), [
    ("issuer", 201), ("token endpoint", 400), ("PAR endpoint", 400)])
def test_a_fapi2_clients_assertion_at_par_names_the_issuer_only(
    app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey, audience: str, status: int
) -> None:
    client_id = _client(app, client_key, profile="fapi2", signing_algs=("RS256", "PS256"))
    answer = _push(client, client_id, _signed(client_key, client_id, AUDIENCES[audience]))
    assert answer.status_code == status, answer.json
    if status == 400:
        assert answer.json["error"] == "invalid_client"


def test_a_fapi2_pushed_request_without_redirect_uri_is_refused(
    app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey
) -> None:
    client_id = _client(app, client_key, profile="fapi2", signing_algs=("RS256", "PS256"))
    answer = _push(client, client_id, _signed(client_key, client_id, ISSUER), redirect_uri="")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"
    assert "redirect_uri" in answer.json["error_description"]
    plain = _client(app, client_key)  # one registered URI: the default, outside the profile
    answer = _push(client, plain, _signed(client_key, plain, ISSUER), redirect_uri="")
    assert answer.status_code == 201, answer.json
