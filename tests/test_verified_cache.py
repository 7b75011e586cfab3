"""The resource protector's cache of verified tokens: a token whose signature was checked once is
not checked again while the same key still stands behind its kid; everything that depends on
the moment or on the request (expiry, scope) is checked on every use."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from authlib.oauth2.rfc6750 import InvalidTokenError
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import Key, RSAKey

from authserver.keystore import KeyStore
from authserver.resource_server import AccessTokenValidator, ScopeRequired
from authserver.resource_server import validator as validator_module

from .helpers import basic
from .support import copy_keys, start_server

ISSUER = "http://authserver.test"
AUDIENCE = f"{ISSUER}/api"


class DictKeys:
    """A KeySource whose published keys a test can change."""

    def __init__(self, *keys: RSAKey) -> None:
        self.by_kid: dict[str, Key] = {str(key.kid): key for key in keys}

    def get_key(self, kid: str) -> Key | None:
        return self.by_kid.get(kid)


def new_key(kid: str = "k1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return new_key()


def token(key: RSAKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "client_id": "c1",
              "scope": "profile", "iat": now, "exp": now + 300, "jti": str(time.time_ns())}
    claims.update(overrides)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key)


def validate(validator: AccessTokenValidator, token_string: str, scope: str = "profile") -> Any:
    claims = validator.authenticate_token(token_string)
    validator.validate_token(claims, [scope], None)
    return claims


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the signature verifications the validator asks joserfc for."""
    calls: list[str] = []
    real = validator_module.jws.validate_compact

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("verify")
        return real(*args, **kwargs)

    monkeypatch.setattr(validator_module.jws, "validate_compact", counting)
    return calls


def test_a_token_seen_before_is_not_verified_again(key: RSAKey, signature_checks: list[str]) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key))
    value = token(key)
    first, second = validate(validator, value), validate(validator, value)
    assert first == second and second["sub"] == "user-1"
    assert signature_checks == ["verify"]


def test_with_the_cache_off_every_use_is_verified(key: RSAKey, signature_checks: list[str]) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key), verified_cache_size=0)
    value = token(key)
    validate(validator, value)
    validate(validator, value)
    assert signature_checks == ["verify", "verify"]


def test_a_cached_token_expires_on_time(key: RSAKey) -> None:
    now = int(time.time())
    clock = [float(now)]
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key), leeway=0,
                                     clock=lambda: clock[0])
    value = token(key, iat=now, exp=now + 30)
    validate(validator, value)
    clock[0] = now + 31
    with pytest.raises(InvalidTokenError, match="expired"):
        validate(validator, value)


def test_a_cached_token_is_refused_once_its_key_is_withdrawn(key: RSAKey) -> None:
    keys = DictKeys(key)
    validator = AccessTokenValidator(ISSUER, AUDIENCE, keys)
    value = token(key)
    validate(validator, value)
    del keys.by_kid[str(key.kid)]
    with pytest.raises(InvalidTokenError) as refused:
        validate(validator, value)
    assert refused.value.reason == "unknown_key"  # type: ignore[attr-defined]


def test_a_cached_token_is_verified_again_when_its_kid_names_another_key(key: RSAKey) -> None:
    keys = DictKeys(key)
    validator = AccessTokenValidator(ISSUER, AUDIENCE, keys)
    value = token(key)
    validate(validator, value)
    keys.by_kid[str(key.kid)] = new_key(str(key.kid))  # same kid, another key
    with pytest.raises(InvalidTokenError) as refused:
        validate(validator, value)
    assert refused.value.reason == "bad_signature"  # type: ignore[attr-defined]


def test_scope_is_checked_on_every_use(key: RSAKey) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key))
    value = token(key)
    validate(validator, value, "profile")
    with pytest.raises(ScopeRequired):
        validate(validator, value, "notes:write")


def test_refused_tokens_are_never_remembered(key: RSAKey, signature_checks: list[str]) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key))
    forged = token(new_key(str(key.kid)))  # our kid, another key's signature
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            validate(validator, forged)
    assert signature_checks == ["verify", "verify"]


def test_each_use_gets_its_own_claims(key: RSAKey) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key))
    value = token(key)
    first = validate(validator, value)
    first["sub"] = "someone-else"  # a view that changes what it was given
    first.header["typ"] = "JWT"
    again = validate(validator, value)
    assert again["sub"] == "user-1" and again.header["typ"] == "at+jwt"


def test_the_cache_is_bounded(key: RSAKey) -> None:
    validator = AccessTokenValidator(ISSUER, AUDIENCE, DictKeys(key), verified_cache_size=3)
    for _ in range(10):
        validate(validator, token(key))
        assert len(validator.verified_tokens) <= 3


def test_the_server_refuses_a_remembered_token_once_its_key_is_withdrawn(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    """The server's own APIs: an operator withdraws the (compromised) key that signed a token
    the app has already verified and remembered; once the app's key store reloads, the token is
    refused rather than answered from memory."""
    access_token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(*cc_client)).json["access_token"]
    bearer = {"Authorization": f"Bearer {access_token}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    assert client.get("/api/me", headers=bearer).status_code == 200  # now remembered

    served: KeyStore = app.extensions["authserver.keystore"]
    operator = KeyStore(served.directory, jwks_max_age=served.jwks_max_age)
    compromised = operator.rotate(force=True)[0].retired
    assert compromised is not None
    operator.withdraw(compromised)
    served.load()  # what the app's own check does within a second

    refused = client.get("/api/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json["error"] == "invalid_token"


def test_a_running_server_refuses_remembered_tokens_of_a_withdrawn_key(
    tmp_path: Path, key_template: Path
) -> None:
    """Over real HTTP, 2 workers: `keys withdraw` on the CLI reaches every worker's
    key store within its reload interval, and no worker answers the token from memory."""
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'withdraw.db'}",
                          keys_dir=copy_keys(key_template, tmp_path))
    try:
        created = server.cli_json("client", "create", "--name", "w", "--scope", "profile")
        access_token = server.http.post(
            "/oauth/token", data={"grant_type": "client_credentials"},
            auth=(created["client_id"], created["client_secret"])).json()["access_token"]
        bearer = {"Authorization": f"Bearer {access_token}"}

        def statuses() -> list[int]:
            # sync workers close every connection, so these spread over both workers
            return [server.http.get("/api/me", headers=bearer).status_code for _ in range(8)]

        assert statuses() == [200] * 8
        compromised = server.cli_json("keys", "rotate", "--force")["retired"]
        server.cli("keys", "withdraw", compromised)
        deadline = time.monotonic() + 5  # the workers stat the manifest once a second
        while (seen := statuses()) != [401] * 8 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert seen == [401] * 8
    finally:
        server.stop()
