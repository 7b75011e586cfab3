"""OpenID Connect standard claims (OIDC Core §5.1, §5.4): set on the user with the CLI, checked
for what each claim is, and returned by scope in the ID token (verified by PyJWT against the
JWKS over HTTP) and at userinfo, against the app in process."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from .support import ServerProcess
from .verifier import IndependentVerifier

PASSWORD = "claims-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)
ADDRESS = {"street_address": "12 Analytical Row", "locality": "London", "country": "UK"}


@pytest.fixture(scope="module")
def person(server: ServerProcess) -> Iterator[dict[str, Any]]:
    username = f"ada{secrets.token_hex(3)}"
    created = server.cli_json(
        "user", "create", "--username", username, "--email", "ada@example.com",
        "--name", "Ada Lovelace", "--password-stdin",
        "--claim", "given_name=Ada", "--claim", "family_name=Lovelace",
        "--claim", "birthdate=1815-12-10", "--claim", "zoneinfo=Europe/London",
        "--claim", "locale=en-GB", "--claim", "website=https://ada.example",
        "--claim", "email_verified=true", "--claim", "phone_number=+44 20 7946 0000",
        "--claim", f"address={json.dumps(ADDRESS)}", stdin=PASSWORD + "\n")
    app = server.cli_json("client", "create", "--name", "rp", "--grant-type", "password")
    yield {"user": created, "app": app, "username": username}
    assert "Traceback" not in server.log()


def _tokens(server: ServerProcess, person: dict[str, Any], scope: str) -> dict[str, Any]:
    answer = server.http.post("/oauth/token", auth=(person["app"]["client_id"],
                                                    person["app"]["client_secret"]), data={
        "grant_type": "password", "username": person["username"], "password": PASSWORD,
        "scope": scope})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_each_scope_brings_its_claims_into_the_id_token_and_userinfo(
    server: ServerProcess, person: dict[str, Any]
) -> None:
    tokens = _tokens(server, person, "openid profile email address phone")
    verifier = IndependentVerifier(server.http, server.base_url)
    claims = verifier.verify(tokens["id_token"], audience=person["app"]["client_id"])
    userinfo = server.http.get("/oauth/userinfo",
                               headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    for found in (claims, userinfo):
        assert found["given_name"] == "Ada" and found["family_name"] == "Lovelace"
        assert found["name"] == "Ada Lovelace" and found["preferred_username"] == person["username"]
        assert found["birthdate"] == "1815-12-10" and found["zoneinfo"] == "Europe/London"
        assert found["locale"] == "en-GB" and found["website"] == "https://ada.example"
        assert found["email"] == "ada@example.com" and found["email_verified"] is True
        assert found["phone_number"] == "+44 20 7946 0000"
        assert found["address"] == ADDRESS
        assert isinstance(found["updated_at"], int)


def test_a_claim_comes_only_with_its_scope(server: ServerProcess, person: dict[str, Any]) -> None:
    tokens = _tokens(server, person, "openid email")
    userinfo = server.http.get("/oauth/userinfo",
                               headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert set(userinfo) == {"sub", "email", "email_verified"}


def test_update_changes_and_removes_claims(server: ServerProcess, person: dict[str, Any]) -> None:
    before = person["user"]["claims"]["updated_at"]
    updated = server.cli_json("user", "update", person["username"], "--claim", "nickname=Ada L.",
                              "--claim", "locale=")
    assert updated["claims"]["nickname"] == "Ada L." and "locale" not in updated["claims"]
    assert updated["claims"]["updated_at"] >= before


@pytest.mark.parametrize(("claim", "message"), [
    ("birthdate=10/12/1815", "birthdate must be YYYY-MM-DD"),
    ("birthdate=1815-13-40", "is not a date"),
    ("website=javascript:alert(1)", "website must be an absolute http(s) URL"),
    ("address=[1, 2]", "address must be a JSON object"),
    ('address={"planet": "Mars"}', "no member 'planet'"),
    ("zoneinfo=Mars/Olympus", "IANA"),
    ("email_verified=yes", "true or false"),
    ("email=not-an-email", "email must be an email address"),
    ("shoe_size=42", "not a standard claim"),
    ("given_name", "NAME=VALUE"),
])
def test_a_claim_that_is_not_what_the_spec_says_is_refused(
    server: ServerProcess, person: dict[str, Any], claim: str, message: str
) -> None:
    refused = server.cli("user", "update", person["username"], "--claim", claim, check=False)
    assert refused.returncode == 2 and message in refused.stderr
    username = f"x{secrets.token_hex(3)}"
    not_created = server.cli("user", "create", "--username", username, "--password-stdin",
                             "--claim", claim, stdin=PASSWORD + "\n", check=False)
    assert not_created.returncode == 2
    assert username not in server.cli("user", "list").stdout  # nothing half-written


def test_discovery_lists_the_claim_scopes_and_every_claim(server: ServerProcess) -> None:
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert {"profile", "email", "address", "phone"} <= set(metadata["scopes_supported"])
    assert {"given_name", "birthdate", "address", "phone_number_verified",
            "updated_at"} <= set(metadata["claims_supported"])
