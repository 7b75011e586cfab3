"""`authserver serve` as an operator starts it (issue #27): the issuer follows the address
served unless AUTHSERVER_ISSUER is set, a busy port is refused, a database that cannot be
used stops it in one line, and the start says which database, key store and issuer it uses."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from .support import AUTHSERVER, copy_keys, eventually, free_port, server_env


def _env(tmp_path: Path, key_template: Path, **extra: str) -> dict[str, str]:
    env = server_env(f"sqlite:///{tmp_path / 'serve.db'}", copy_keys(key_template, tmp_path),
                     issuer="", **extra)
    del env["AUTHSERVER_ISSUER"]
    return env


def test_without_authserver_issuer_the_issuer_is_the_address_served(
    tmp_path: Path, key_template: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*AUTHSERVER, "serve", "--port", str(port), "--workers", "1"],
                                   cwd=tmp_path, env=_env(tmp_path, key_template),
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        def discovery() -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
            except httpx.TransportError:
                return None

        answer = eventually(discovery, lambda r: r is not None or process.poll() is not None,
                            within=30)
        assert answer is not None, log.read_text()
        assert answer.json()["issuer"] == f"http://127.0.0.1:{port}"
        assert answer.json()["token_endpoint"] == f"http://127.0.0.1:{port}/oauth/token"
        started = log.read_text()
        assert f"authserver: issuer: http://127.0.0.1:{port}" in started
        assert f"authserver: database: sqlite:///{tmp_path / 'serve.db'}" in started
        assert f"authserver: key store: files in {tmp_path / 'keys'}" in started
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_port_in_use_is_refused_naming_it(tmp_path: Path, key_template: Path) -> None:
    with socket.socket() as held:
        # As another Granian would hold it: SO_REUSEPORT would let a second server share it.
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run([*AUTHSERVER, "serve", "--port", str(port), "--workers", "1"],
                                cwd=tmp_path, env=_env(tmp_path, key_template),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "--reuse-port" in result.stderr
    assert not (tmp_path / "serve.db").exists()  # refused before anything was done


def test_an_unreachable_database_stops_serve_in_one_line(tmp_path: Path,
                                                         key_template: Path) -> None:
    env = _env(tmp_path, key_template)
    env["AUTHSERVER_DATABASE_URL"] = "postgresql+psycopg://authserver:s3cret@127.0.0.1:9/auth"
    result = subprocess.run([*AUTHSERVER, "serve", "--port", str(free_port())], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cannot use the database postgresql+psycopg://authserver:***@127.0.0.1:9/auth "
        '(AUTHSERVER_DATABASE_URL): connection to server at "127.0.0.1", port 9 failed: '
        "Connection refused"]


def test_the_test_suites_cheap_password_hashing_is_refused_behind_https(
    tmp_path: Path, key_template: Path
) -> None:
    """AUTHSERVER_TEST_FAST_HASHING (the suite sets it, conftest.py) never serves a
    deployment: refused before anything is done (the port given is taken, so a serve that
    went on would fail differently)."""
    env = {**_env(tmp_path, key_template), "AUTHSERVER_ISSUER": "https://login.example.com",
           "AUTHSERVER_TEST_FAST_HASHING": "1"}
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        result = subprocess.run(
            [*AUTHSERVER, "serve", "--port", str(held.getsockname()[1]), "--workers", "1"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "AUTHSERVER_TEST_FAST_HASHING is for the test suite" in result.stderr
    assert not (tmp_path / "serve.db").exists()
