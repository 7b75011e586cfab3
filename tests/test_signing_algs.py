"""Signing algorithms beyond RS256 (AUTHSERVER_SIGNING_ALGS): every algorithm as the server's
default on both key-store backends, tokens checked by PyJWT against the published JWKS; a
client's and an API's own algorithm; the CLI's and registration's refusals; the resource
protector pinning the algorithm to the published key (RFC 8725 §3.1); RSA keys under 2048 bits
refused in client keys and DPoP proofs, RSA-2048 proofs accepted."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.cli import main
from authserver.config import ConfigError, Settings
from authserver.keystore import SIGNING_ALGS, KeyStore
from authserver.store.clients import find_client

from .dpop_client import DPoPKey
from .helpers import basic, make_client, make_user, password_grant, verify
from .support import copy_keys

PASSPHRASE = "signing algorithms passphrase"


@pytest.fixture(scope="session")
def every_alg_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key store with a current and a next key of every algorithm, made once."""
    directory = tmp_path_factory.mktemp("every-alg") / "keys"
    KeyStore(directory, algs=SIGNING_ALGS).ensure()
    return directory


def app_with(settings: Settings, keys: Path, tmp_path: Path, algs: tuple[str, ...],
             key_store: str = "files") -> Iterator[Flask]:
    """The app with `algs` configured: its keys copied from `keys`, or, for the database key
    store, made there by the start `serve` makes (only the configured algorithms': each key
    sealed costs an scrypt)."""
    configured = settings.override(signing_algs=algs,
                                   keys_dir=str(copy_keys(keys, tmp_path / "alg-keys")))
    if key_store == "database":
        configured = configured.override(key_store="database", keys_passphrase=PASSPHRASE)
        made = KeyStore.from_settings(configured)
        made.ensure()
        made.close()
    application = create_app(configured)
    yield application
    application.extensions["authserver.db"].dispose()


@pytest.fixture
def alg_app(request: pytest.FixtureRequest, settings: Settings, every_alg_keys: Path,
            tmp_path: Path) -> Iterator[Flask]:
    """The app with the algorithms of the test's parameter, the files key store."""
    yield from app_with(settings, every_alg_keys, tmp_path, request.param)


@pytest.fixture
def default_alg_app(request: pytest.FixtureRequest, settings: Settings, every_alg_keys: Path,
                    tmp_path: Path) -> Iterator[Flask]:
    """The same, with one key-store backend per database run: files on SQLite, the
    database's on PostgreSQL."""
    key_store = "database" if settings.database_url.startswith("postgresql") else "files"
    yield from app_with(settings, every_alg_keys, tmp_path, request.param, key_store)


def header(token: str) -> dict[str, Any]:
    return dict(jwt.get_unverified_header(token))


@pytest.mark.parametrize("default_alg_app", [(alg,) for alg in SIGNING_ALGS], indirect=True,
                         ids=list(SIGNING_ALGS))
def test_every_algorithm_signs_as_the_default(default_alg_app: Flask) -> None:
    """Access tokens and ID tokens in the default algorithm, verified by PyJWT against the
    JWKS (every published key of every algorithm, with kid, alg and use); the API accepts the
    token; discovery lists the configured algorithm."""
    alg = default_alg_app.extensions["authserver.settings"].signing_algs[0]
    client = default_alg_app.test_client()
    discovery = client.get("/.well-known/openid-configuration").get_json()
    assert discovery["id_token_signing_alg_values_supported"] == [alg]
    for name in ("token_endpoint_auth", "request_object", "dpop"):
        assert discovery[f"{name}_signing_alg_values_supported"] == list(SIGNING_ALGS)
    published = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert alg in {k["alg"] for k in published}
    assert all(k["use"] == "sig" and k["kid"] and k["alg"] in SIGNING_ALGS for k in published)

    make_user(default_alg_app)
    creds = make_client(default_alg_app, grant_types=["password", "client_credentials"])
    answer = password_grant(client, creds, scope="openid notes:read")
    assert answer.status_code == 200, answer.get_json()
    tokens = answer.get_json()
    audience = default_alg_app.extensions["authserver.settings"].api_audience
    for token, aud in ((tokens["access_token"], audience), (tokens["id_token"], creds[0])):
        assert header(token)["alg"] == alg
        assert verify(default_alg_app, token, aud)["iss"]
    machine = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                "scope": "notes:read"}, headers=basic(*creds))
    assert header(machine.get_json()["access_token"])["alg"] == alg
    api = client.get("/api/notes", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert api.status_code == 200, api.get_json()


@pytest.fixture
def runner(alg_app: Flask, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on the app's database, with its algorithms."""
    settings = alg_app.extensions["authserver.settings"]
    monkeypatch.setenv("AUTHSERVER_ISSUER", settings.issuer)
    monkeypatch.setenv("AUTHSERVER_ALLOW_INSECURE_ISSUER", "1")
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", settings.keys_dir)
    monkeypatch.setenv("AUTHSERVER_SIGNING_ALGS", " ".join(settings.signing_algs))
    return CliRunner()


def cli_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize("alg_app", [("RS256", "PS256", "EdDSA")], indirect=True, ids=["mixed"])
def test_a_clients_id_tokens_and_an_apis_access_tokens_use_their_own_algorithm(
    alg_app: Flask, runner: CliRunner
) -> None:
    assert cli_json(runner, "api", "show", "http://authserver.test/api")["signing_alg"] is None
    api = cli_json(runner, "api", "create", "--audience", "https://orders.example",
                   "--name", "Orders", "--scope", "orders:read", "--signing-alg", "PS256")
    assert api["signing_alg"] == "PS256"
    made = cli_json(runner, "client", "create", "--name", "ed", "--grant-type", "password",
                    "--id-token-signed-response-alg", "EdDSA", "--scope", "openid orders:read")
    assert made["id_token_signed_response_alg"] == "EdDSA"
    make_user(alg_app)
    tokens = password_grant(alg_app.test_client(), (made["client_id"], made["client_secret"]),
                            scope="openid orders:read").get_json()
    assert header(tokens["id_token"])["alg"] == "EdDSA"
    assert header(tokens["access_token"])["alg"] == "PS256"
    verify(alg_app, tokens["access_token"], "https://orders.example")
    verify(alg_app, tokens["id_token"], made["client_id"])
    # Its logout tokens (Back-Channel Logout §2.4) are signed as its ID tokens are.
    with alg_app.extensions["authserver.db"].session() as session:
        found = find_client(session, made["client_id"])
        assert found is not None
        logout = alg_app.extensions["authserver.oauth2"].logout_notifier.logout_token(
            found, "someone", "a-session")
    assert header(logout)["alg"] == "EdDSA" and header(logout)["typ"] == "logout+jwt"
    assert verify(alg_app, logout, made["client_id"])["sid"] == "a-session"
    back = cli_json(runner, "api", "update", "https://orders.example", "--signing-alg", "default")
    assert back["signing_alg"] is None
    changed = cli_json(runner, "client", "update", made["client_id"],
                       "--id-token-signed-response-alg", "PS256")
    assert changed["id_token_signed_response_alg"] == "PS256"
    again = password_grant(alg_app.test_client(), (made["client_id"], made["client_secret"]),
                           scope="openid orders:read").get_json()
    assert header(again["id_token"])["alg"] == "PS256"
    assert header(again["access_token"])["alg"] == "RS256"  # the API's is the default again


@pytest.mark.parametrize("alg_app", [("RS256", "ES256")], indirect=True, ids=["rs-es"])
def test_algorithms_not_configured_are_refused_by_name(
    alg_app: Flask, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (["client", "create", "--name", "x", "--id-token-signed-response-alg", "PS256"],
                 ["api", "create", "--audience", "https://x.example", "--name", "x", "--scope",
                  "x:y", "--signing-alg", "EdDSA"],
                 ["client", "create", "--name", "x", "--id-token-signed-response-alg", "HS256"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert args[-1] in result.output and "written" not in result.output
    assert cli_json(runner, "client", "list")["clients"] == []
    monkeypatch.setenv("AUTHSERVER_SIGNING_ALGS", "ES256 HS256")
    with pytest.raises(ConfigError, match="HS256"):
        Settings.from_env()
    unknown = runner.invoke(main, ["keys", "list"])
    assert unknown.exit_code == 2 and "HS256" in unknown.output


@pytest.mark.parametrize("alg_app", [("RS256", "ES256")], indirect=True, ids=["rs-es"])
def test_registration_asks_for_a_configured_id_token_algorithm(alg_app: Flask) -> None:
    settings = alg_app.extensions["authserver.settings"]
    application = create_app(settings.override(registration="open"))
    client = application.test_client()
    metadata = {"redirect_uris": ["https://rp.example/cb"], "client_name": "rp"}
    refused = client.post("/oauth/register", json={**metadata,
                                                    "id_token_signed_response_alg": "EdDSA"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_client_metadata"
    made = client.post("/oauth/register", json={**metadata,
                                                 "id_token_signed_response_alg": "ES256"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["id_token_signed_response_alg"] == "ES256"
    plain = client.post("/oauth/register", json=metadata).get_json()
    assert plain["id_token_signed_response_alg"] == "RS256"
    application.extensions["authserver.db"].dispose()


@pytest.mark.parametrize("alg_app", [("RS256", "PS256")], indirect=True, ids=["rs-ps"])
def test_the_protector_takes_the_algorithm_from_the_published_key(alg_app: Flask) -> None:
    """A token signed by the RS256 key, but saying PS256 in its header (the key holder's
    signature, so only the pinning can catch it), is refused (RFC 8725 §3.1)."""
    keystore = alg_app.extensions["authserver.keystore"]
    settings = alg_app.extensions["authserver.settings"]
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": settings.api_audience, "sub": "mallory",
              "client_id": "c", "iat": now, "exp": now + 60, "jti": secrets.token_hex(8),
              "scope": "notes:read"}
    key = keystore.signing_key("RS256")
    for alg, expected in (("RS256", 200), ("PS256", 401)):
        token = jwt.encode(claims, key.private_key, algorithm=alg,
                           headers={"typ": "at+jwt", "kid": key.kid})
        if alg == "PS256":
            # The PS256 signature verifies with the RS256 key: only the pinning refuses it.
            public = next(k for k in keystore.jwks()["keys"] if k["kid"] == key.kid)
            assert jwt.decode(token, jwt.PyJWK(public).key, algorithms=["PS256"],
                              audience=settings.api_audience)
        answer = alg_app.test_client().get("/api/notes",
                                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == expected, answer.get_json()


def _jwks(private: Any) -> dict[str, Any]:
    public = private.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return {"keys": [json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))]}
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {"keys": [json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))]}
    return {"keys": [json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))]}


def test_rsa_keys_under_2048_bits_are_refused_in_a_clients_jwks(app: Flask) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="2048"):
        make_client(app, auth_method="private_key_jwt", jwks=_jwks(short))
    for fine in (rsa.generate_private_key(public_exponent=65537, key_size=2048),
                 ed25519.Ed25519PrivateKey.generate()):
        assert make_client(app, auth_method="private_key_jwt", jwks=_jwks(fine))[0]


def token_with_proof(client: FlaskClient, creds: tuple[str, str], proof: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers={**basic(*creds), "DPoP": proof})


@pytest.mark.parametrize("alg, bits, accepted", [
    ("RS256", 2048, True), ("PS256", 2048, True), ("PS256", 4096, True), ("EdDSA", 0, True),
    ("RS256", 1024, False),
], ids=["RS256-2048", "PS256-2048", "PS256-4096", "EdDSA", "RS256-1024"])
def test_dpop_proofs_with_rsa_keys_of_2048_bits_and_more(
    client: FlaskClient, cc_client: tuple[str, str], alg: str, bits: int, accepted: bool
) -> None:
    """joserfc's 512-byte header cap no longer refuses an RSA key in the proof's header;
    RSA under 2048 bits is refused (RFC 7518 §3.3)."""
    key = DPoPKey(alg, bits)
    with pytest.warns() if bits and bits < 2048 else _nothing():
        proof = key.proof("POST", "http://authserver.test/oauth/token")
    answer = token_with_proof(client, cc_client, proof)
    if not accepted:
        assert answer.status_code == 400
        assert answer.get_json()["error"] == "invalid_dpop_proof"
        assert "2048" in answer.get_json()["error_description"]
        return
    assert answer.status_code == 200, answer.get_json()
    token = answer.get_json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["cnf"]["jkt"] == key.jkt
    api = client.get("/api/me", headers={
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof("GET", "http://authserver.test/api/me", access_token=token)})
    assert api.status_code == 200, api.get_json()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None
