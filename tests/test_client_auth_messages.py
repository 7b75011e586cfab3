"""What `invalid_client` says (issue #26 item 3): a client that authenticates with another
method than the one it registered is told which one it registered; a wrong secret, an unknown
client or a bad assertion get one generic answer that names neither methods nor clients."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from .helpers import REDIRECT, basic, make_client
from .test_private_key_jwt import ASSERTION_TYPE, assertion, public_jwks

GENERIC = "client authentication failed"  # and nothing that tells the cases apart


@pytest.fixture(scope="module")
def client_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cc(client: FlaskClient, data: dict[str, str] | None = None,
       headers: dict[str, str] | None = None, path: str = "/oauth/token") -> Any:
    answer = client.post(path, data={"grant_type": "client_credentials", **(data or {})},
                         headers=headers or {})
    assert answer.json["error"] == "invalid_client", answer.get_data(as_text=True)
    assert answer.status_code in (400, 401)
    return answer.json["error_description"]


def test_another_method_than_the_registered_one_is_named(
        app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey) -> None:
    basic_id, secret = make_client(app, scope="profile")
    said = cc(client, {"client_id": basic_id, "client_secret": secret})
    assert "registered to authenticate with client_secret_basic, not client_secret_post" in said
    post_id, post_secret = make_client(app, scope="profile", auth_method="client_secret_post")
    said = cc(client, headers=basic(post_id, post_secret))
    assert "registered to authenticate with client_secret_post" in said
    jwt_id, _ = make_client(app, scope="profile", auth_method="private_key_jwt",
                            jwks=public_jwks(client_key))
    said = cc(client, headers=basic(jwt_id, "guess"))
    assert "registered to authenticate with private_key_jwt" in said
    public_id, _ = make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                               auth_method="none")
    said = cc(client, {"client_id": public_id, "client_secret": "x"},
              path="/oauth/token")
    assert "registered to authenticate with none" in said and "public" in said
    said = cc(client, {"client_id": basic_id, "client_assertion_type": ASSERTION_TYPE,
                       "client_assertion": assertion(client_key, basic_id)})
    assert "registered to authenticate with client_secret_basic, not private_key_jwt" in said


def test_the_registered_method_is_named_at_introspection_and_revocation_too(
        app: Flask, client: FlaskClient) -> None:
    basic_id, secret = make_client(app, scope="profile")
    for path in ("/oauth/introspect", "/oauth/revoke"):
        answer = client.post(path, data={"token": "x", "client_id": basic_id,
                                         "client_secret": secret})
        assert answer.json["error"] == "invalid_client"
        assert "registered to authenticate with client_secret_basic" in \
            answer.json["error_description"]


def test_a_wrong_secret_and_an_unknown_client_get_the_same_generic_answer(
        app: Flask, client: FlaskClient, client_key: rsa.RSAPrivateKey) -> None:
    basic_id, _ = make_client(app, scope="profile")
    post_id, _ = make_client(app, scope="profile", auth_method="client_secret_post")
    jwt_id, _ = make_client(app, scope="profile", auth_method="private_key_jwt",
                            jwks=public_jwks(client_key))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answers = [
        cc(client, headers=basic(basic_id, "wrong")),
        cc(client, headers=basic("nobody", "wrong")),
        cc(client, {"client_id": post_id, "client_secret": "wrong"}),
        cc(client, {"client_id": "nobody", "client_secret": "wrong"}),
        cc(client, {"client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion(other_key, jwt_id)}),
    ]
    for said in answers[:4]:
        assert said == answers[0]
        assert GENERIC in said
    for said in answers:
        for method in ("client_secret_basic", "client_secret_post", "private_key_jwt", "none"):
            assert method not in said
