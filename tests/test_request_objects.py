"""Request objects (RFC 9101, OIDC Core §6): signed with the client's registered keys (RS256,
PS256, ES256), their parameters are the request; unsigned ones and request_uri are refused as
unsupported; every other fault is invalid_request_object back at the client. Over HTTP to
the app in process, objects signed by PyJWT."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .browser import REDIRECT, Browser, RelyingParty, new_user, query
from .helpers import pkce
from .support import ServerProcess
from .verifier import IndependentVerifier

PASSWORD = "request-object-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


class Signer:
    """The client's side: its keys, and request objects signed with them."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key()))
        ed_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.ed.public_key()))
        return {"keys": [{**rsa_jwk, "kid": "rsa-1"}, {**ec_jwk, "kid": "ec-1"},
                         {**ed_jwk, "kid": "ed-1"}]}

    def sign(self, claims: dict[str, Any], alg: str = "RS256") -> str:
        key, kid = {"ES256": (self.ec, "ec-1"), "EdDSA": (self.ed, "ed-1")}.get(
            alg, (self.rsa, "rsa-1"))
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


@pytest.fixture(scope="module")
def rp(server: ServerProcess, signer: Signer, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[RelyingParty]:
    keys = tmp_path_factory.mktemp("rp") / "jwks.json"
    keys.write_text(json.dumps(signer.jwks()))
    app = server.cli_json("client", "create", "--name", "jar rp", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT,
                          "--scope", "openid email", "--jwks", str(keys))
    yield RelyingParty(server, app["client_id"], app["client_secret"])
    assert "Traceback" not in server.log()


@pytest.fixture(scope="module")
def browser(server: ServerProcess) -> Iterator[Browser]:
    user_browser = new_user(server, PASSWORD, "--email", "jar@example.com")
    yield user_browser
    user_browser.close()


def _object(server: ServerProcess, rp: RelyingParty, challenge: str, **claims: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": rp.client_id, "aud": server.base_url, "iat": now, "exp": now + 300,
            **rp.request(challenge, state="inside-only", nonce=f"inside-{secrets.token_hex(8)}"),
            **claims}


def _outer(rp: RelyingParty, request_object: str, **extra: str) -> dict[str, str]:
    # Outside the object: only what OIDC Core §6.1 requires there, and a different state.
    return {"client_id": rp.client_id, "response_type": "code", "scope": "openid",
            "request": request_object, **extra}


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_a_signed_request_object_is_the_request(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer, alg: str
) -> None:
    verifier, challenge = pkce()
    claims = _object(server, rp, challenge, scope="openid email", max_age=3600,
                     claims={"id_token": {"email": {"essential": True}}})
    found = query(browser.authorize(_outer(rp, signer.sign(claims, alg))))
    # state and nonce were only inside the object (OIDC conformance oidcc-request-*).
    assert found["state"] == "inside-only" and "code" in found, found
    tokens = rp.exchange(found["code"], verifier).json()
    id_token = IndependentVerifier(server.http, server.base_url).verify(
        tokens["id_token"], audience=rp.client_id)
    assert id_token["nonce"] == claims["nonce"]
    assert id_token["email"] == "jar@example.com"
    assert tokens["scope"] == "openid email"


def test_an_unsigned_request_object_is_request_not_supported(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    unsigned = jwt.encode(_object(server, rp, challenge), None, algorithm="none")
    found = query(browser.authorize(_outer(rp, unsigned, state="outer",
                                           redirect_uri=REDIRECT)))
    assert found["error"] == "request_not_supported" and found["state"] == "outer", found
    assert found["iss"] == server.base_url


def test_request_uri_is_request_uri_not_supported(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    found = query(browser.authorize({"client_id": rp.client_id, "response_type": "code",
                                     "redirect_uri": REDIRECT, "state": "outer",
                                     "request_uri": "https://rp.example/request.jwt"}))
    assert found["error"] == "request_uri_not_supported", found
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_uri_parameter_supported"] is False
    assert metadata["request_object_signing_alg_values_supported"] == [
        "RS256", "PS256", "ES256", "EdDSA"]


def _refused(server: ServerProcess, rp: RelyingParty, browser: Browser, request_object: str
             ) -> dict[str, str]:
    return query(browser.authorize(_outer(rp, request_object, state="outer",
                                          redirect_uri=REDIRECT)))


def test_an_object_signed_by_another_key_is_invalid_request_object(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    _, challenge = pkce()
    forged = Signer().sign(_object(server, rp, challenge))
    assert _refused(server, rp, browser, forged)["error"] == "invalid_request_object"


@pytest.mark.parametrize("change", [
    {"exp": int(time.time()) - 600},
    {"aud": "https://another-issuer.example"},
    {"iss": "someone-else"},
])
def test_an_expired_or_misaddressed_object_is_invalid_request_object(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer,
    change: dict[str, Any]
) -> None:
    _, challenge = pkce()
    found = _refused(server, rp, browser, signer.sign(_object(server, rp, challenge, **change)))
    assert found["error"] == "invalid_request_object", found


def test_a_client_id_inside_that_differs_is_invalid_request(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer
) -> None:
    _, challenge = pkce()
    other = signer.sign(_object(server, rp, challenge, client_id="another-client"))
    assert _refused(server, rp, browser, other)["error"] == "invalid_request"


def test_a_request_object_of_a_client_without_keys_is_invalid_request_object(
    server: ServerProcess, browser: Browser, signer: Signer
) -> None:
    app = server.cli_json("client", "create", "--name", "keyless", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--scope", "openid")
    keyless = RelyingParty(server, app["client_id"], app["client_secret"])
    _, challenge = pkce()
    found = _refused(server, keyless, browser, signer.sign(_object(server, keyless, challenge)))
    assert found["error"] == "invalid_request_object" and found["state"] == "outer", found


def test_an_unregistered_redirect_uri_inside_the_object_never_redirects(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer
) -> None:
    _, challenge = pkce()
    evil = signer.sign(_object(server, rp, challenge, redirect_uri="https://evil.example/cb"))
    answer = browser.authorize(_outer(rp, evil, redirect_uri=REDIRECT))
    assert answer.status_code == 400 and "not registered" in answer.text


def test_garbage_in_the_request_parameter_is_invalid_request_object(
    server: ServerProcess, rp: RelyingParty, browser: Browser
) -> None:
    found = _refused(server, rp, browser, "not-a-jwt")
    assert found["error"] == "invalid_request_object" and found["state"] == "outer", found




def test_a_signed_object_nested_too_deep_is_invalid_request_object(
    server: ServerProcess, rp: RelyingParty, browser: Browser, signer: Signer
) -> None:
    _, challenge = pkce()
    payload = json.dumps(_object(server, rp, challenge))[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    deep = jwt.api_jws.encode(payload.encode(), signer.rsa, algorithm="RS256",
                              headers={"kid": "rsa-1", "typ": "JWT"})
    answer = browser.http.post(f"{server.base_url}/oauth/authorize", data=_outer(
        rp, deep, state="outer", redirect_uri=REDIRECT))
    assert query(answer)["error"] == "invalid_request_object"
