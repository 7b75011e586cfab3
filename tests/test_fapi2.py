"""`client create --profile fapi2` (FAPI 2.0 Security Profile) against `authserver serve`:
what the profile forbids is refused at registration (exit 2) and at run time; the whole flow,
PAR + PKCE + private_key_jwt (audience the issuer) + DPoP-bound tokens, ends in a DPoP call
to /api/me."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from .browser import REDIRECT, Browser, query
from .dpop_client import DPoPKey
from .helpers import pkce
from .support import ServerProcess, cli_in_process

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# RS256 stays the server's default; a FAPI 2.0 client's JWTs use ES256 (FAPI 2.0 §5.4.1).
SERVER_ENV = {"AUTHSERVER_SIGNING_ALGS": "RS256 ES256"}


class Bank:
    """The FAPI client: its signing key (private_key_jwt), its DPoP key, its registration."""

    def __init__(self, server: ServerProcess, tmp: Path) -> None:
        self.server = server
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        (tmp / "bank.jwks").write_text(json.dumps({"keys": [{**jwk, "kid": "bank-1"}]}))
        self.jwks = tmp / "bank.jwks"
        self.dpop = DPoPKey()
        self.app = server.cli_json(
            "client", "create", "--name", "Bank", "--profile", "fapi2", "--auth-method",
            "private_key_jwt", "--jwks", str(self.jwks), "--grant-type", "authorization_code",
            "--grant-type", "refresh_token", "--redirect-uri", REDIRECT,
            "--scope", "openid profile")
        self.client_id = self.app["client_id"]

    def assertion(self, audience: str | None = None, alg: str = "PS256") -> dict[str, str]:
        now = int(time.time())
        signed = jwt.encode({"iss": self.client_id, "sub": self.client_id,
                             "aud": audience or self.server.base_url, "iat": now,
                             "exp": now + 60, "jti": secrets.token_urlsafe(12)},
                            self.key, algorithm=alg, headers={"kid": "bank-1"})
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


@pytest.fixture(scope="module")
def bank(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    yield Bank(server, tmp_path_factory.mktemp("fapi"))
    assert "Traceback" not in server.log()


def test_the_profile_sets_par_and_dpop(bank: Bank) -> None:
    assert bank.app["profile"] == "fapi2"
    assert bank.app["require_pushed_authorization_requests"] is True
    assert bank.app["dpop_bound_access_tokens"] is True


@pytest.mark.parametrize(("options", "message"), [
    (["--auth-method", "client_secret_basic", "--grant-type", "authorization_code"],
     "private_key_jwt"),
    (["--auth-method", "private_key_jwt", "--grant-type", "authorization_code",
      "--grant-type", "client_credentials"], "only the authorization_code grant"),
    (["--auth-method", "private_key_jwt", "--grant-type", "password"],
     "only the authorization_code grant"),
])
def test_what_the_profile_forbids_is_refused_at_registration(
    server: ServerProcess, bank: Bank, options: list[str], message: str
) -> None:
    result = server.cli("client", "create", "--name", "no", "--profile", "fapi2",
                        "--jwks", str(bank.jwks), "--redirect-uri", REDIRECT, *options,
                        check=False)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def _push(server: ServerProcess, bank: Bank, challenge: str | None, **extra: str) -> Any:
    form = {"response_type": "code", "client_id": bank.client_id, "redirect_uri": REDIRECT,
            "scope": "openid profile", "state": "fapi-state", **bank.assertion(), **extra}
    if challenge is not None:
        form.update(code_challenge=challenge, code_challenge_method="S256")
    return server.http.post("/oauth/par", data=form)


def test_par_pkce_private_key_jwt_and_dpop_end_to_end(
    server: ServerProcess, bank: Bank, browser: Browser
) -> None:
    verifier, challenge = pkce()
    pushed = _push(server, bank, challenge)
    assert pushed.status_code == 201, pushed.text
    found = query(browser.authorize({"client_id": bank.client_id,
                                     "request_uri": pushed.json()["request_uri"]}))
    assert found["state"] == "fapi-state" and found["iss"] == server.base_url
    token_url = f"{server.base_url}/oauth/token"
    exchange = {"grant_type": "authorization_code", "code": found["code"],
                "code_verifier": verifier, "redirect_uri": REDIRECT}
    no_dpop = server.http.post("/oauth/token", data={**exchange, **bank.assertion()})
    assert no_dpop.status_code == 400 and no_dpop.json()["error"] == "invalid_dpop_proof"
    # FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA only, for the client's JWTs as for ours.
    rs256_proof = server.http.post("/oauth/token", data={**exchange, **bank.assertion()},
                                   headers={"DPoP": DPoPKey("RS256").proof("POST", token_url)})
    assert rs256_proof.status_code == 400, rs256_proof.text
    assert rs256_proof.json()["error"] == "invalid_dpop_proof"
    assert "ES256" in rs256_proof.json()["error_description"]
    rs256_assertion = server.http.post(
        "/oauth/token", data={**exchange, **bank.assertion(alg="RS256")},
        headers={"DPoP": bank.dpop.proof("POST", token_url)})
    assert rs256_assertion.status_code in (400, 401), rs256_assertion.text
    assert rs256_assertion.json()["error"] == "invalid_client"
    token_endpoint_aud = server.http.post(
        "/oauth/token", data={**exchange, **bank.assertion(token_url)},
        headers={"DPoP": bank.dpop.proof("POST", token_url)})
    assert token_endpoint_aud.status_code == 400  # FAPI 2.0: the issuer, only
    assert token_endpoint_aud.json()["error"] == "invalid_client", token_endpoint_aud.text
    tokens = server.http.post("/oauth/token", data={**exchange, **bank.assertion()},
                              headers={"DPoP": bank.dpop.proof("POST", token_url)})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["token_type"] == "DPoP"
    access = tokens.json()["access_token"]
    jwks = server.http.get("/.well-known/jwks.json").json()["keys"]
    for token, audience in ((access, f"{server.base_url}/api"),
                            (tokens.json()["id_token"], bank.client_id)):
        kid = jwt.get_unverified_header(token)["kid"]
        public = next(k for k in jwks if k["kid"] == kid)
        assert public["alg"] == "ES256"  # not the server's default RS256
        jwt.decode(token, jwt.PyJWK(public).key, algorithms=["ES256"], audience=audience)
    me = httpx.get(f"{server.base_url}/api/me", headers={
        "Authorization": f"DPoP {access}",
        "DPoP": bank.dpop.proof("GET", f"{server.base_url}/api/me", access_token=access)})
    assert me.status_code == 200, me.text

    # A lost refresh response does not strand the client (FAPI 2.0 §5.3.2.1): the previous
    # refresh token still works within the grace window, and the grant is not revoked.
    def refresh(token: str) -> httpx.Response:
        return server.http.post("/oauth/token", headers={
            "DPoP": bank.dpop.proof("POST", token_url)}, data={
            "grant_type": "refresh_token", "refresh_token": token, **bank.assertion()})

    first = refresh(tokens.json()["refresh_token"])
    assert first.status_code == 200, first.text
    retried = refresh(tokens.json()["refresh_token"])  # as if the first answer was lost
    assert retried.status_code == 200, retried.text
    assert refresh(retried.json()["refresh_token"]).status_code == 200


def test_an_rs256_request_object_is_refused(server: ServerProcess, bank: Bank) -> None:
    now = int(time.time())
    claims = {"iss": bank.client_id, "aud": server.base_url, "client_id": bank.client_id,
              "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid",
              "exp": now + 60, "nbf": now, "code_challenge": pkce()[1],
              "code_challenge_method": "S256"}
    for alg, status in (("RS256", 400), ("PS256", 201)):
        signed = jwt.encode(claims, bank.key, algorithm=alg, headers={"kid": "bank-1"})
        pushed = server.http.post("/oauth/par", data={
            "client_id": bank.client_id, "request": signed, **bank.assertion()})
        assert pushed.status_code == status, pushed.text
        if alg == "RS256":
            assert pushed.json()["error"] == "invalid_request_object"


def test_the_profile_needs_a_fapi_algorithm(bank: Bank) -> None:
    result = cli_in_process(
        ["client", "create", "--name", "no", "--profile", "fapi2", "--auth-method",
         "private_key_jwt", "--jwks", str(bank.jwks), "--grant-type", "authorization_code",
         "--redirect-uri", REDIRECT], env={**bank.server.env, "AUTHSERVER_SIGNING_ALGS": "RS256"})
    assert result.returncode == 2 and "AUTHSERVER_SIGNING_ALGS" in result.stderr, result.stderr


def test_a_plain_request_or_one_without_pkce_is_refused(
    server: ServerProcess, bank: Bank, browser: Browser
) -> None:
    _, challenge = pkce()
    plain = query(browser.authorize({
        "response_type": "code", "client_id": bank.client_id, "redirect_uri": REDIRECT,
        "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"}))
    assert plain["error"] == "invalid_request"
    pushed = _push(server, bank, None)  # no PKCE: refused at the push (PAR runs every check)
    assert pushed.status_code == 400, pushed.text
    assert pushed.json()["error"] == "invalid_request"
    assert "PKCE" in pushed.json()["error_description"]


def test_openid_client_runs_the_profile(
    server: ServerProcess, node_rp: Path, tmp_path: Path, browser: Browser
) -> None:
    """openid-client v6 (tests/rp/fapi.mjs): private_key_jwt, PAR with PKCE, the code with a
    DPoP proof, a DPoP call to /api/me."""
    rp = subprocess.Popen(["node", str(node_rp.parent / "fapi.mjs"), server.base_url, REDIRECT],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    try:
        assert rp.stdout is not None and rp.stdin is not None

        def line() -> dict[str, Any]:
            got = rp.stdout.readline()  # type: ignore[union-attr]
            assert got, rp.stderr.read() if rp.stderr else "no output"
            return dict(json.loads(got))

        (tmp_path / "node.jwks").write_text(json.dumps(line()["jwks"]))
        app = server.cli_json("client", "create", "--name", "Node bank", "--profile", "fapi2",
                              "--id-token-signed-response-alg", "ES256",
                              "--auth-method", "private_key_jwt", "--jwks",
                              str(tmp_path / "node.jwks"), "--grant-type", "authorization_code",
                              "--redirect-uri", REDIRECT, "--scope", "openid profile")
        rp.stdin.write(app["client_id"] + "\n")
        rp.stdin.flush()
        authorization_url = line()["authorization_url"]
        assert "request_uri=urn" in authorization_url and "code_challenge" not in authorization_url
        answer = browser.authorize(dict(parse_qsl(urlsplit(authorization_url).query)))
        stdout, stderr = rp.communicate(query_location(answer) + "\n", timeout=60)
        assert rp.returncode == 0, stderr
    finally:
        if rp.poll() is None:
            rp.kill()
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["token_type"].lower() == "dpop" and result["status"] == 200
    assert result["id_token_alg"] == "ES256"  # verified by openid-client, against the JWKS
    assert result["me"]["username"] == browser.username


def query_location(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])
