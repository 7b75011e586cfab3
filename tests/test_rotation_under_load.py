"""Key rotation on a running `authserver serve --workers 2` under concurrent token and API
requests: zero failures, old tokens still validate, new tokens carry the new kid. Run with
RS256 alone, and with EdDSA rotated while PS256 (another API's algorithm) keeps signing."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import jwt
import pytest

from .support import copy_keys, eventually, start_server


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # The key store is independent of the database; one backend shows the behaviour.
    return f"sqlite:///{tmp_path / 'authserver.db'}"


OTHER_API = "https://ledger.example"
MACHINE = {"grant_type": "client_credentials", "scope": "profile"}  # a token for /api/me


@pytest.mark.parametrize("algs", [("RS256",), ("EdDSA", "PS256")], ids=["RS256", "EdDSA-PS256"])
def test_rotation_under_load_breaks_nothing(
    tmp_path: Path, database_url: str, key_template: Path, algs: tuple[str, ...]
) -> None:
    keys_dir = copy_keys(key_template, tmp_path)
    server = start_server(tmp_path, database_url=database_url, keys_dir=keys_dir, workers=2,
                          extra_env={"AUTHSERVER_SIGNING_ALGS": " ".join(algs)})
    try:
        other = algs[1] if len(algs) > 1 else None
        scope = "profile"
        if other is not None:
            server.cli_json("api", "create", "--audience", OTHER_API, "--name", "Ledger",
                            "--scope", "ledger:read", "--signing-alg", other)
            scope = "profile ledger:read"
        client = server.cli_json("client", "create", "--name", "load", "--scope", scope)
        auth = (client["client_id"], client["client_secret"])

        def other_token(http: httpx.Client) -> str | None:
            """A token of the other API, signed with the algorithm not rotated; None once
            checked by introspection, else what failed."""
            token = http.post("/oauth/token", auth=auth, data={
                "grant_type": "client_credentials", "resource": OTHER_API,
                "scope": "ledger:read"})
            if token.status_code != 200:
                return f"other token {token.status_code} {token.text}"
            access = token.json()["access_token"]
            other_kids.add(jwt.get_unverified_header(access)["kid"])
            active = http.post("/oauth/introspect", auth=auth, data={"token": access})
            if active.status_code != 200 or active.json().get("active") is not True:
                return f"introspect {active.status_code} {active.text}"
            return None

        def new_token(http: httpx.Client) -> str:
            response = http.post("/oauth/token", data=MACHINE,
                                 auth=auth)
            assert response.status_code == 200, response.text
            return str(response.json()["access_token"])

        old_token = new_token(server.http)
        old_kid = jwt.get_unverified_header(old_token)["kid"]
        outcomes: Counter[str] = Counter()
        failures: list[str] = []
        other_kids: set[str] = set()
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                while not stop.is_set():
                    token = http.post("/oauth/token", data=MACHINE,
                                      auth=auth)
                    if token.status_code != 200:
                        failures.append(f"token {token.status_code} {token.text}")
                        continue
                    access = token.json()["access_token"]
                    for presented in (access, old_token):
                        api = http.get("/api/me", headers={"Authorization": f"Bearer {presented}"})
                        if api.status_code != 200:
                            failures.append(f"api {api.status_code} {api.text}")
                    outcomes[jwt.get_unverified_header(access)["kid"]] += 1
                    if other is not None:
                        problem = other_token(http)
                        if problem:
                            failures.append(problem)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        # Rotate once the load runs, and keep it running until every worker has followed.
        eventually(lambda: outcomes[old_kid], lambda issued: issued >= 20)
        rotated = server.cli_json("keys", "rotate", "--force", "--alg", algs[0])
        # The workers stat the manifest at most once a second: wait until all have followed.
        followed = eventually(
            lambda: {jwt.get_unverified_header(new_token(server.http))["kid"] for _ in range(10)},
            lambda kids: kids == {rotated["current"]})
        # ...and until the load itself has been served under the new key (a CI run stopped it
        # while its threads were still on their last round of the old one).
        eventually(lambda: outcomes[rotated["current"]], lambda issued: issued >= 5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        assert failures == []
        assert [r["alg"] for r in rotated["rotations"]] == [algs[0]]
        if other is not None:  # the other algorithm's key signed throughout, unrotated
            assert len(other_kids) == 1
        assert followed == {rotated["current"]}
        assert rotated["retired"] == old_kid
        assert outcomes[old_kid] > 0 and outcomes[rotated["current"]] > 0
        # Every worker has followed: new tokens carry the new kid.
        for _ in range(10):
            assert jwt.get_unverified_header(new_token(server.http))["kid"] == rotated["current"]
        published = {k["kid"] for k in server.http.get("/.well-known/jwks.json").json()["keys"]}
        assert {old_kid, rotated["current"], rotated["next"]} <= published
        old_still_valid = server.http.get("/api/me", headers={"Authorization": f"Bearer {old_token}"})
        assert old_still_valid.status_code == 200
        assert "Traceback" not in server.log()
    finally:
        server.stop()
