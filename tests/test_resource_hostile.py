"""A catalogue of hostile access tokens: each one is refused by the resource protector with 401
and `WWW-Authenticate: Bearer error="invalid_token"`, never a 500 and never a pass."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://authserver.test"
AUDIENCE = f"{ISSUER}/api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "client_id": "c1",
        "scope": "profile notes:read", "iat": now, "exp": now + 300, "jti": "j1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: RSAKey, payload: dict[str, Any], **header: Any) -> str:
    """A JWS over exactly this header (jwt.encode would add a default typ)."""
    head = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid, **header}
    head = {k: v for k, v in head.items() if v is not None}
    return jws.serialize_compact(head, json.dumps(payload).encode(), key)


@pytest.fixture(scope="module")
def foreign_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@pytest.fixture
def our_key(app: Flask) -> RSAKey:
    return app.extensions["authserver.keystore"].signing_key()  # type: ignore[no-any-return]


def call(client: FlaskClient, token: str | None, path: str = "/api/me", **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(path, headers=headers, **kwargs)


def assert_invalid_token(response: Any) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json["error"] == "invalid_token"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    # Token validation never touches the database: one backend is enough here.
    return f"sqlite:///{tmp_path / 'authserver.db'}"


def test_a_valid_token_passes(client: FlaskClient, our_key: RSAKey) -> None:
    response = call(client, sign(our_key, claims()))
    assert response.status_code == 200, response.json
    assert response.json["sub"] == "user-1"


def _hs256_with_public_key(our_key: RSAKey) -> str:
    # The classic confusion attack: HMAC keyed with the RSA public key's PEM.
    public_pem = our_key.public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": our_key.kid}).encode())
    body = b64(json.dumps(claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def _alg_none(our_key: RSAKey) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": our_key.kid}).encode())
    return f"{header}.{b64(json.dumps(claims()).encode())}."


def _tamper(part: int) -> Callable[[RSAKey], str]:
    def make(our_key: RSAKey) -> str:
        pieces = sign(our_key, claims()).split(".")
        if part == 0:
            pieces[0] = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": our_key.kid,
                                        "x": 1}).encode())
        elif part == 1:
            pieces[1] = b64(json.dumps(claims(scope="profile notes:read notes:write")).encode())
        else:
            sig = bytearray(base64.urlsafe_b64decode(pieces[2] + "=="))
            sig[10] ^= 0x01
            pieces[2] = b64(bytes(sig))
        return ".".join(pieces)

    return make


HOSTILE: dict[str, Callable[[RSAKey], str]] = {
    "alg-none": _alg_none,
    "hs256-with-public-key-as-secret": _hs256_with_public_key,
    "tampered-header": _tamper(0),
    "tampered-payload": _tamper(1),
    "tampered-signature": _tamper(2),
    "wrong-iss": lambda k: sign(k, claims(iss="http://evil.test")),
    "wrong-aud": lambda k: sign(k, claims(aud="http://other.test/api")),
    "expired-beyond-leeway": lambda k: sign(k, claims(exp=int(time.time()) - 120)),
    "not-yet-valid-beyond-leeway": lambda k: sign(k, claims(nbf=int(time.time()) + 120)),
    "missing-typ": lambda k: sign(k, claims(), typ=None),
    "wrong-typ-id-token": lambda k: sign(k, claims(aud="c1"), typ="JWT"),
    "missing-kid": lambda k: sign(k, claims(), kid=None),
    "unknown-kid": lambda k: sign(k, claims(), kid="no-such-kid"),
    "missing-exp": lambda k: sign(k, claims(exp=None)),
    "missing-sub": lambda k: sign(k, claims(sub=None)),
    "truncated": lambda k: sign(k, claims())[:-20],
    "two-segments": lambda k: ".".join(sign(k, claims()).split(".")[:2]),
    "non-base64": lambda k: "%%%.$$$.!!!",
    "json-array-header": lambda k: f"{b64(b'[1]')}.{b64(b'{}')}.{b64(b'x')}",
    "huge-100kb": lambda k: sign(k, claims(pad="x" * 100_000)),
    "empty-string-kid": lambda k: sign(k, claims(), kid=""),
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_token_is_invalid_token(
    client: FlaskClient, our_key: RSAKey, make: Callable[[RSAKey], str]
) -> None:
    assert_invalid_token(call(client, make(our_key)))


def test_foreign_key_with_our_kid_is_refused(
    client: FlaskClient, our_key: RSAKey, foreign_key: RSAKey
) -> None:
    token = jose_jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": our_key.kid}, claims(), foreign_key
    )
    assert_invalid_token(call(client, token))


def test_embedded_jwk_header_is_ignored(client: FlaskClient, foreign_key: RSAKey) -> None:
    # The attacker ships their own public key in the header (RFC 8725 §3.10): never used.
    header = {"alg": "RS256", "typ": "at+jwt", "kid": foreign_key.kid,
              "jwk": foreign_key.as_dict(private=False)}
    assert_invalid_token(call(client, jose_jwt.encode(header, claims(), foreign_key)))


@pytest.mark.parametrize("name", ["jku", "x5u"])
def test_key_url_headers_are_ignored(
    client: FlaskClient, our_key: RSAKey, foreign_key: RSAKey, name: str
) -> None:
    attacker = {"alg": "RS256", "typ": "at+jwt", "kid": foreign_key.kid,
                name: "http://127.0.0.1:9/attacker-jwks.json"}
    assert_invalid_token(call(client, jose_jwt.encode(attacker, claims(), foreign_key)))
    # A genuine token that also carries the header is judged by our keys alone.
    genuine = sign(our_key, claims(), **{name: "http://127.0.0.1:9/attacker-jwks.json"})
    assert call(client, genuine).status_code == 200


def test_expiry_within_leeway_is_accepted(client: FlaskClient, our_key: RSAKey) -> None:
    token = sign(our_key, claims(exp=int(time.time()) - 30))
    assert call(client, token).status_code == 200


def test_iat_far_in_the_future_is_refused(client: FlaskClient, our_key: RSAKey) -> None:
    future = int(time.time()) + 3600
    assert_invalid_token(call(client, sign(our_key, claims(iat=future, exp=future + 300))))


def test_no_token_gets_a_bare_bearer_challenge(client: FlaskClient) -> None:
    response = call(client, None)
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request has no authentication information.
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json["error"] == "invalid_request"


def test_empty_bearer_is_refused(client: FlaskClient) -> None:
    response = client.get("/api/me", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_scheme_is_refused(client: FlaskClient, our_key: RSAKey) -> None:
    response = client.get("/api/me", headers={"Authorization": f"Basic {sign(our_key, claims())}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_in_query_string_is_not_accepted(client: FlaskClient, our_key: RSAKey) -> None:
    # RFC 9700 §2.5 / RFC 6750 §2.3: no tokens in URLs; the header is the only place read.
    response = client.get("/api/me", query_string={"access_token": sign(our_key, claims())})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_in_form_body_is_not_accepted(client: FlaskClient, our_key: RSAKey) -> None:
    response = client.post("/api/notes", data={"access_token": sign(our_key, claims())})
    assert response.status_code == 401


def test_lowercase_bearer_scheme_is_accepted(client: FlaskClient, our_key: RSAKey) -> None:
    response = client.get("/api/me", headers={"Authorization": f"bearer {sign(our_key, claims())}"})
    assert response.status_code == 200


def test_fixture_check_the_catalogues_baseline_token_is_valid_to_pyjwt(
    app: Flask, our_key: RSAKey
) -> None:
    # Not a test of the product: a guard that the hostile catalogue starts from a token an
    # independent library accepts, so each refusal above is due to the one thing changed.
    token = sign(our_key, claims())
    public = KeySet([our_key]).as_dict(private=False)["keys"][0]
    decoded = jwt.decode(token, jwt.PyJWK(public).key, algorithms=["RS256"], audience=AUDIENCE,
                         issuer=ISSUER)
    assert decoded["sub"] == "user-1"
