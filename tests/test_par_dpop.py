"""DPoP at the PAR endpoint (RFC 9449 §10.1), through Flask's test client: a proof sent with a
pushed request is checked there and binds the code to its key, as `dpop_jkt` would; a bad
proof, or one whose key is not the `dpop_jkt` also given, is refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .dpop_client import DPoPKey
from .helpers import REDIRECT, basic, make_client, pkce
from .test_code_flow import consent, location_params, login

ISSUER = "http://authserver.test"
pytestmark = pytest.mark.usefixtures("no_traceback")
PAR = f"{ISSUER}/oauth/par"
TOKEN = f"{ISSUER}/oauth/token"


@pytest.fixture
def rp(app: Flask, user: str) -> tuple[str, str]:
    return make_client(app, grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                       scope="openid profile")


def _push(client: FlaskClient, rp: tuple[str, str], challenge: str, dpop: str | None = None,
          **extra: str) -> Any:
    form = {"response_type": "code", "client_id": rp[0], "redirect_uri": REDIRECT,
            "scope": "openid", "state": "par-state", "code_challenge": challenge,
            "code_challenge_method": "S256", **extra}
    headers = basic(*rp) | ({"DPoP": dpop} if dpop is not None else {})
    return client.post("/oauth/par", data=form, headers=headers)


def _code(client: FlaskClient, rp: tuple[str, str], request_uri: str) -> str:
    url = f"/oauth/authorize?client_id={rp[0]}&request_uri={request_uri}"
    return location_params(consent(client, url, login(client, url)))["code"]


def _exchange(client: FlaskClient, rp: tuple[str, str], code: str, verifier: str,
              dpop: str | None) -> Any:
    headers = basic(*rp) | ({"DPoP": dpop} if dpop is not None else {})
    return client.post("/oauth/token", headers=headers, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})


def test_a_proof_at_par_binds_the_code_to_its_key(client: FlaskClient, rp: tuple[str, str]) -> None:
    key = DPoPKey()
    verifier, challenge = pkce()
    pushed = _push(client, rp, challenge, key.proof("POST", PAR))
    assert pushed.status_code == 201, pushed.json
    code = _code(client, rp, pushed.json["request_uri"])
    without = _exchange(client, rp, code, verifier, None)
    assert without.status_code == 400 and without.json["error"] == "invalid_dpop_proof"
    another = _exchange(client, rp, code, verifier, DPoPKey().proof("POST", TOKEN))
    assert another.status_code == 400 and another.json["error"] == "invalid_dpop_proof"
    good = _exchange(client, rp, code, verifier, key.proof("POST", TOKEN))
    assert good.status_code == 200, good.json
    assert good.json["token_type"] == "DPoP"


@pytest.mark.parametrize("case", ["htu", "htm", "signature", "not a jwt", "replayed"])
def test_an_invalid_proof_at_par_is_refused(
    client: FlaskClient, rp: tuple[str, str], case: str
) -> None:
    key = DPoPKey()
    proof = {
        "htu": key.proof("POST", TOKEN),
        "htm": key.proof("GET", PAR),
        "signature": key.proof("POST", PAR, header={"jwk": DPoPKey().jwk}),
        "not a jwt": "not.a.jwt",
        "replayed": key.proof("POST", PAR),
    }[case]
    _, challenge = pkce()
    if case == "replayed":
        assert _push(client, rp, challenge, proof).status_code == 201
    answer = _push(client, rp, challenge, proof)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_dpop_proof", answer.json


def test_a_proof_whose_key_is_not_the_dpop_jkt_given_is_refused(
    client: FlaskClient, rp: tuple[str, str]
) -> None:
    key, other = DPoPKey(), DPoPKey()
    _, challenge = pkce()
    answer = _push(client, rp, challenge, key.proof("POST", PAR), dpop_jkt=other.jkt)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request", answer.json
    assert "dpop_jkt" in answer.json["error_description"]
    same = _push(client, rp, challenge, key.proof("POST", PAR), dpop_jkt=key.jkt)
    assert same.status_code == 201, same.json
