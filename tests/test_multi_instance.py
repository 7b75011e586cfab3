"""Two `authserver serve` instances sharing one PostgreSQL and one keys/ directory behind nginx
(round robin): tokens from one validate on the other, a refresh token issued by one rotates
on the other, and a key rotation is followed by both."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import create_engine, text

from .conftest import POSTGRES_URL
from .support import ServerProcess, copy_keys, free_port, start_server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream authserver {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://authserver;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


@pytest.fixture
def cluster(
    tmp_path: Path, key_template: Path, postgres_ready: bool
) -> Iterator[tuple[str, ServerProcess, ServerProcess]]:
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed; .ci/run installs it")
        pytest.skip("nginx not installed")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    keys_dir = copy_keys(key_template, tmp_path)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    # One working directory: the instances share the generated session key, as hosts would
    # share AUTHSERVER_SECRET_KEY.
    a = start_server(tmp_path, database_url=url, keys_dir=keys_dir, issuer=issuer)
    b = start_server(tmp_path, database_url=url, keys_dir=keys_dir, issuer=issuer)
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp_path, a=a.base_url.rsplit(":", 1)[1],
                                      b=b.base_url.rsplit(":", 1)[1], port=port))
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield issuer, a, b
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        a.stop()
        b.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
        time.sleep(2.0)
        for instance in (a, b):
            token = instance.http.post("/oauth/token", auth=auth,
                                       data={"grant_type": "client_credentials"}).json()
            assert jwt.get_unverified_header(token["access_token"])["kid"] == rotation["current"]
        old = lb.get("/api/me", headers={"Authorization": f"Bearer {from_a['access_token']}"})
        assert old.status_code == 200
    for instance in (a, b):
        assert "Traceback" not in instance.log()
