"""private_key_jwt client authentication (RFC 7523 §2.2) on SQLite and PostgreSQL: the client
signs an assertion with its own key; each assertion works once."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main

from .helpers import make_client

ISSUER = "http://authserver.test"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": "client-key-1", "use": "sig", "alg": "RS256"}]}


def assertion(key: rsa.RSAPrivateKey, client_id: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": f"{ISSUER}/oauth/token",
              "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(12), **overrides}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "client-key-1"})


def token_request(client: FlaskClient, client_id: str, signed: str) -> Any:
    return client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed})


@pytest.fixture
def jwt_client(app: Flask, client_key: rsa.RSAPrivateKey) -> str:
    client_id, secret = make_client(app, auth_method="private_key_jwt", scope="profile",
                                    jwks=public_jwks(client_key))
    assert secret == ""  # no secret is issued for private_key_jwt
    return client_id


def test_a_signed_assertion_authenticates_the_client(
    client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey
) -> None:
    response = token_request(client, jwt_client, assertion(client_key, jwt_client))
    assert response.status_code == 200, response.json
    assert response.json["scope"] == "profile"


def test_the_issuer_is_an_accepted_audience(
    client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey
) -> None:
    response = token_request(client, jwt_client, assertion(client_key, jwt_client, aud=ISSUER))
    assert response.status_code == 200, response.json


def test_a_replayed_assertion_is_refused(
    client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey
) -> None:
    signed = assertion(client_key, jwt_client)
    assert token_request(client, jwt_client, signed).status_code == 200
    replay = token_request(client, jwt_client, signed)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [{"aud": "http://elsewhere/token"}, {"exp": int(time.time()) - 600}, {"iss": "someone-else"}],
    ids=["wrong-audience", "expired", "iss-not-sub"],
)
def test_bad_assertions_are_invalid_client(
    client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey, overrides: dict
) -> None:
    response = token_request(client, jwt_client, assertion(client_key, jwt_client, **overrides))
    assert response.status_code == 400 and response.json["error"] == "invalid_client"


def test_an_assertion_signed_by_another_key_is_refused(client: FlaskClient, jwt_client: str) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = token_request(client, jwt_client, assertion(stranger, jwt_client))
    assert response.status_code == 400 and response.json["error"] == "invalid_client"


def test_an_hmac_signed_assertion_is_refused(
    client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    forged = jwt.encode({"iss": jwt_client, "sub": jwt_client, "aud": f"{ISSUER}/oauth/token",
                         "exp": now + 60, "jti": "x"}, "k" * 32, algorithm="HS256")
    response = token_request(client, jwt_client, forged)
    assert response.status_code == 400 and response.json["error"] == "invalid_client"



def test_cli_registers_a_private_key_jwt_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_key: rsa.RSAPrivateKey
) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(client_key)))
    runner = CliRunner()
    missing = runner.invoke(main, ["client", "create", "--name", "x", "--auth-method",
                                   "private_key_jwt"])
    assert missing.exit_code == 2 and "--jwks" in missing.stderr
    created = runner.invoke(main, ["client", "create", "--name", "x", "--auth-method",
                                   "private_key_jwt", "--jwks", str(jwks_file), "--json"])
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert data["token_endpoint_auth_method"] == "private_key_jwt"
    assert "client_secret" not in data
    private = {"keys": [{**public_jwks(client_key)["keys"][0], "d": "AAAA"}]}
    jwks_file.write_text(json.dumps(private))
    refused = runner.invoke(main, ["client", "create", "--name", "y", "--auth-method",
                                   "private_key_jwt", "--jwks", str(jwks_file)])
    assert refused.exit_code == 2 and "private key" in refused.stderr


def test_failing_assertions_of_one_client_do_not_lock_out_another(
    app: Flask, client: FlaskClient, jwt_client: str, client_key: rsa.RSAPrivateKey
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for _ in range(5):  # the per-account limit
        refused = token_request(client, jwt_client, assertion(other_key, jwt_client))
        assert (refused.status_code, refused.json["error"]) == (400, "invalid_client")
    assert token_request(client, jwt_client, assertion(client_key, jwt_client)).status_code == 429
    bystander_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bystander, _ = make_client(app, auth_method="private_key_jwt", scope="profile",
                               jwks=public_jwks(bystander_key))
    answer = token_request(client, bystander, assertion(bystander_key, bystander))
    assert answer.status_code == 200, answer.json
