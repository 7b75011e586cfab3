"""DPoP (RFC 9449) over HTTP to the app in process (tests/inprocess.py): tokens bound to the
client's key at the token endpoint, every §4.3 proof check broken one at a time, the sample APIs
requiring the proof, refresh tokens of public clients bound to their key, clients that must use
DPoP; and server nonces. The replay cache shared by real `authserver serve` instances is
test_dpop_instances.py; replays on every worker and a service of its own are test_served.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from .browser import REDIRECT, Browser, RelyingParty, query
from .dpop_client import DPoPKey
from .helpers import pkce
from .support import ServerProcess

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


@pytest.fixture(scope="module")
def machine(server: ServerProcess) -> Iterator[tuple[str, str]]:
    app = server.cli_json("client", "create", "--name", "dpop machine", "--grant-type",
                          "client_credentials", "--scope", "profile notes:read")
    yield app["client_id"], app["client_secret"]
    assert "Traceback" not in server.log()


def _token(server: ServerProcess, auth: tuple[str, str], proof: str | None) -> httpx.Response:
    headers = {"DPoP": proof} if proof is not None else {}
    return server.http.post("/oauth/token", auth=auth, headers=headers,
                            data={"grant_type": "client_credentials", "scope": "profile"})


def _bound(server: ServerProcess, auth: tuple[str, str], key: DPoPKey) -> str:
    answer = _token(server, auth, key.proof("POST", f"{server.base_url}/oauth/token"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    return str(answer.json()["access_token"])


def _me(server: ServerProcess, token: str, proof: str | None, scheme: str = "DPoP") -> Any:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return server.http.get("/api/me", headers=headers)


def test_a_proof_binds_the_token_and_the_api_wants_it_back(
    server: ServerProcess, machine: tuple[str, str]
) -> None:
    key = DPoPKey()
    token = _bound(server, machine, key)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.jkt}
    url = f"{server.base_url}/api/me"
    assert _me(server, token, key.proof("GET", url, access_token=token)).status_code == 200
    as_bearer = _me(server, token, None, scheme="Bearer")
    assert as_bearer.status_code == 401 and as_bearer.json()["error"] == "invalid_token"
    without = _me(server, token, None)
    assert without.status_code == 401 and without.json()["error"] == "invalid_dpop_proof"
    assert without.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')
    assert 'algs="RS256 PS256 ES256 EdDSA"' in without.headers["WWW-Authenticate"]
    found = server.http.post("/oauth/introspect", auth=machine, data={"token": token}).json()
    assert found["active"] is True and found["cnf"] == {"jkt": key.jkt}
    assert found["token_type"] == "DPoP"
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["dpop_signing_alg_values_supported"] == ["RS256", "PS256", "ES256", "EdDSA"]


def test_a_bearer_token_is_not_accepted_as_dpop(
    server: ServerProcess, machine: tuple[str, str]
) -> None:
    token = _token(server, machine, None).json()["access_token"]
    key = DPoPKey()
    answer = _me(server, token, key.proof("GET", f"{server.base_url}/api/me", access_token=token))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert _me(server, token, None, scheme="Bearer").status_code == 200


def _broken(key: DPoPKey, url: str, case: str) -> str:
    """A token-endpoint proof with one §4.3 check broken."""
    if case == "typ":
        return key.proof("POST", url, header={"typ": "JWT"})
    if case == "alg none":
        return jwt.encode({"jti": "x", "htm": "POST", "htu": url, "iat": int(time.time())},
                          None, algorithm="none", headers={"typ": "dpop+jwt", "jwk": key.jwk})
    if case == "alg HS256":
        return jwt.encode({"jti": "x", "htm": "POST", "htu": url, "iat": int(time.time())},
                          "a-shared-secret-that-is-long-enough", algorithm="HS256",
                          headers={"typ": "dpop+jwt", "jwk": key.jwk})
    if case == "private jwk":
        private = jwt.algorithms.ECAlgorithm.to_jwk(key.private, as_dict=True)
        return key.proof("POST", url, header={"jwk": private})
    if case == "no jwk":
        return jwt.encode({"jti": "x", "htm": "POST", "htu": url, "iat": int(time.time())},
                          key.private, algorithm="ES256", headers={"typ": "dpop+jwt"})
    if case == "another key":
        return key.proof("POST", url, header={"jwk": DPoPKey().jwk})
    if case == "htm":
        return key.proof("GET", url)
    if case == "htu":
        return key.proof("POST", url.replace("/oauth/token", "/oauth/other"))
    if case == "old iat":
        return key.proof("POST", url, iat=int(time.time()) - 600)
    if case == "future iat":
        return key.proof("POST", url, iat=int(time.time()) + 600)
    if case == "no jti":
        return key.proof("POST", url, jti=None)
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["typ", "alg none", "alg HS256", "private jwk", "no jwk",
                                  "another key", "htm", "htu", "old iat", "future iat",
                                  "no jti"])
def test_each_broken_proof_is_invalid_dpop_proof(
    server: ServerProcess, machine: tuple[str, str], case: str
) -> None:
    answer = _token(server, machine, _broken(DPoPKey(), f"{server.base_url}/oauth/token", case))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("case", ["wrong ath", "another key", "wrong htu"])
def test_an_api_proof_must_match_the_token_and_the_url(
    server: ServerProcess, machine: tuple[str, str], case: str
) -> None:
    key = DPoPKey()
    token = _bound(server, machine, key)
    url = f"{server.base_url}/api/me"
    proof = {
        "wrong ath": key.proof("GET", url, access_token=token + "x"),
        "another key": DPoPKey().proof("GET", url, access_token=token),
        "wrong htu": key.proof("GET", f"{server.base_url}/api/notes", access_token=token),
    }[case]
    answer = _me(server, token, proof)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_dpop_proof"


def test_a_dpop_bound_client_must_send_a_proof(server: ServerProcess) -> None:
    app = server.cli_json("client", "create", "--name", "bound", "--grant-type",
                          "client_credentials", "--scope", "profile", "--dpop-bound")
    assert app["dpop_bound_access_tokens"] is True
    auth = (app["client_id"], app["client_secret"])
    answer = _token(server, auth, None)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_dpop_proof"
    assert _bound(server, auth, DPoPKey())


def test_a_public_clients_refresh_token_is_bound_to_its_key(
    server: ServerProcess, browser: Browser
) -> None:
    app = server.cli_json("client", "create", "--name", "spa", "--grant-type",
                          "authorization_code", "--grant-type", "refresh_token",
                          "--redirect-uri", REDIRECT, "--auth-method", "none",
                          "--scope", "openid profile")
    spa = RelyingParty(server, app["client_id"])
    key = DPoPKey()
    code, verifier = spa.code(browser, scope="openid profile")
    token_url = f"{server.base_url}/oauth/token"
    tokens = server.http.post("/oauth/token", headers={"DPoP": key.proof("POST", token_url)},
                              data={"grant_type": "authorization_code", "code": code,
                                    "code_verifier": verifier, "redirect_uri": REDIRECT,
                                    "client_id": spa.client_id}).json()
    assert tokens["token_type"] == "DPoP"

    def refresh(proof: str | None) -> httpx.Response:
        return server.http.post("/oauth/token", headers={"DPoP": proof} if proof else {}, data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": spa.client_id})

    assert refresh(None).json()["error"] == "invalid_dpop_proof"
    assert refresh(DPoPKey().proof("POST", token_url)).json()["error"] == "invalid_dpop_proof"
    renewed = refresh(key.proof("POST", token_url))
    assert renewed.status_code == 200, renewed.text
    assert jwt.decode(renewed.json()["access_token"],
                      options={"verify_signature": False})["cnf"]["jkt"] == key.jkt


def test_a_code_asked_for_with_dpop_jkt_needs_that_keys_proof(
    server: ServerProcess, browser: Browser
) -> None:
    app = server.cli_json("client", "create", "--name", "jkt spa", "--grant-type",
                          "authorization_code", "--redirect-uri", REDIRECT, "--auth-method",
                          "none", "--scope", "openid")
    spa = RelyingParty(server, app["client_id"])
    key = DPoPKey()
    code, verifier = spa.code(browser, dpop_jkt=key.jkt)
    token_url = f"{server.base_url}/oauth/token"

    def exchange(proof: str | None) -> httpx.Response:
        return server.http.post("/oauth/token", headers={"DPoP": proof} if proof else {}, data={
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT, "client_id": spa.client_id})

    assert exchange(None).json()["error"] == "invalid_dpop_proof"
    assert exchange(DPoPKey().proof("POST", token_url)).json()["error"] == "invalid_dpop_proof"
    bound = exchange(key.proof("POST", token_url))
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP", bound.text
    _, challenge = pkce()
    found = query(browser.authorize(spa.request(challenge, dpop_jkt="not-a-thumbprint")))
    assert found["error"] == "invalid_request"


# Server nonces (RFC 9449 §8), with Flask's test client: a setting of their own, and a clock
# the test moves.

def test_server_nonces_when_they_are_required(settings: Any) -> None:
    from authserver import create_app
    from authserver.store.clients import register_client

    from .helpers import advance_clock, basic

    app = create_app(settings.override(dpop_nonce=True))
    with app.extensions["authserver.db"].session() as session:
        made = register_client(session, name="n", grant_types=["client_credentials"],
                               scope="profile")
    auth = basic(made.client.client_id, made.client_secret)
    client, key = app.test_client(), DPoPKey()
    token_url, me_url = f"{settings.issuer}/oauth/token", f"{settings.issuer}/api/me"

    def token(nonce: str | None) -> Any:
        return client.post("/oauth/token", headers={**auth, "DPoP": key.proof(
            "POST", token_url, nonce=nonce, iat=app.extensions["authserver.store"].now())},
            data={"grant_type": "client_credentials"})

    first = token(None)
    assert first.status_code == 400 and first.json["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    issued = token(nonce)
    assert issued.status_code == 200 and issued.headers["DPoP-Nonce"]
    access = issued.json["access_token"]

    def me(nonce: str | None) -> Any:
        return client.get("/api/me", headers={"Authorization": f"DPoP {access}", "DPoP": key.proof(
            "GET", me_url, access_token=access, nonce=nonce,
            iat=app.extensions["authserver.store"].now())})

    refused = me(None)
    assert refused.status_code == 401 and refused.json["error"] == "use_dpop_nonce"
    assert refused.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')
    assert me(refused.headers["DPoP-Nonce"]).status_code == 200
    advance_clock(app, 11 * 60)  # two windows later the nonce is stale
    assert me(nonce).json["error"] == "use_dpop_nonce"
