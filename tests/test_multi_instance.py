"""Two `authserver serve` instances sharing one PostgreSQL and one keys/ directory behind nginx
(round robin): tokens from one validate on the other, a refresh token issued by one rotates
on the other, and a key rotation is followed by both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from .conftest import POSTGRES_URL
from .nginx_front import nginx_in_front, require_nginx
from .support import ServerProcess, copy_keys, eventually, free_port, postgres_schema, start_server


@pytest.fixture
def cluster(
    tmp_path: Path, key_template: Path, postgres_ready: bool
) -> Iterator[tuple[str, ServerProcess, ServerProcess]]:
    require_nginx()
    keys_dir = copy_keys(key_template, tmp_path)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with postgres_schema(POSTGRES_URL) as url:
        # One working directory: the instances share the generated session key, as hosts
        # would share AUTHSERVER_SECRET_KEY.
        a = start_server(tmp_path, database_url=url, keys_dir=keys_dir, issuer=issuer)
        b = start_server(tmp_path, database_url=url, keys_dir=keys_dir, issuer=issuer)
        try:
            with nginx_in_front(tmp_path, [a.base_url, b.base_url], port=port):
                yield issuer, a, b
        finally:
            a.stop()
            b.stop()


def test_instances_share_tokens_refresh_and_rotation(
    cluster: tuple[str, ServerProcess, ServerProcess],
) -> None:
    issuer, a, b = cluster
    app = a.cli_json("client", "create", "--name", "multi", "--grant-type", "password",
                     "--grant-type", "refresh_token", "--grant-type", "client_credentials",
                     "--scope", "openid profile notes:read")
    a.cli_json("user", "create", "--username", "multi", "--password-stdin", stdin="multi-pass-1\n")
    auth = (app["client_id"], app["client_secret"])

    # Issued by A, accepted by B (and the other way round).
    from_a = a.http.post("/oauth/token", auth=auth, data={
        "grant_type": "password", "username": "multi", "password": "multi-pass-1"}).json()
    me = b.http.get("/api/me", headers={"Authorization": f"Bearer {from_a['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "multi"
    assert jwt.decode(from_a["access_token"], options={"verify_signature": False})["iss"] == issuer

    # A refresh token from A rotates on B, and its reuse is caught on A.
    rotated = b.http.post("/oauth/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": from_a["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    reuse = a.http.post("/oauth/token", auth=auth, data={
        "grant_type": "refresh_token", "refresh_token": from_a["refresh_token"]})
    assert reuse.status_code == 400

    # Through nginx, round robin: every request works, whichever instance answers.
    with httpx.Client(base_url=issuer, timeout=10) as lb:
        for _ in range(10):
            token = lb.post("/oauth/token", auth=auth, data={"grant_type": "client_credentials",
                                                             "scope": "profile"})
            assert token.status_code == 200
            api = lb.get("/api/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            assert api.status_code == 200

        # A rotation on the shared keys/ is followed by both instances.
        rotation = a.cli_json("keys", "rotate", "--force")

        def signing_kids() -> list[str]:
            # Several tokens from each instance: every worker of both has to have followed.
            return [jwt.get_unverified_header(instance.http.post(
                "/oauth/token", auth=auth, data={"grant_type": "client_credentials"}
            ).json()["access_token"])["kid"] for instance in (a, b) for _ in range(4)]

        kids = eventually(signing_kids, lambda seen: set(seen) == {rotation["current"]})
        assert set(kids) == {rotation["current"]}
        old = lb.get("/api/me", headers={"Authorization": f"Bearer {from_a['access_token']}"})
        assert old.status_code == 200
    for instance in (a, b):
        assert "Traceback" not in instance.log()
