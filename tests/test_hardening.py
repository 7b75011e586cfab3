"""The audit log of a full token cycle (without any secret in it), the constant-time password
check for unknown users, and full-cost password hashing outside the test suite."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .forked_cli import forked_cli
from .support import copy_keys, free_port, server_env, start_server


def test_audit_log_records_a_full_cycle_without_any_secret(
    tmp_path: Path, key_template: Path
) -> None:
    keys_dir = copy_keys(key_template, tmp_path)
    audit_path = tmp_path / "audit.jsonl"
    port = free_port()
    database = f"sqlite:///{tmp_path / 'a.db'}"
    audited = {"AUTHSERVER_AUDIT_LOG": str(audit_path)}
    # Real processes: the audit trail is configured once per process. Forked from one that
    # imports the CLI while the server starts (tests/forked_cli.py), each its own process.
    with forked_cli(tmp_path, server_env(database, keys_dir, f"http://127.0.0.1:{port}",
                                         **audited)) as authserver:
        server = start_server(tmp_path, database_url=database, keys_dir=keys_dir, port=port,
                              extra_env=audited, timeout=90)
        try:
            app = _json(authserver("client", "create", "--name", "audited", "--grant-type",
                                   "password", "--grant-type", "refresh_token", "--json"))
            password = "audited-password-1"
            _json(authserver("user", "create", "--username", "audited", "--password-stdin",
                             "--json", stdin=password + "\n"))
            basic = (app["client_id"], app["client_secret"])
            post = server.http.post
            first = post("/oauth/token", auth=basic, data={
                "grant_type": "password", "username": "audited", "password": password,
                "scope": "openid notes:read"}).json()
            second = post("/oauth/token", auth=basic, data={
                "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}).json()
            post("/oauth/token", auth=basic, data={
                "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
            post("/oauth/introspect", auth=basic, data={"token": second["access_token"]})
            post("/oauth/revoke", auth=basic, data={"token": second["refresh_token"]})
            post("/oauth/token", auth=basic, data={
                "grant_type": "password", "username": "audited", "password": "wrong-guess"})
            rotated = _json(authserver("keys", "rotate", "--force", "--json"))
        finally:
            server.stop()
    text = audit_path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    events = [line["event"] for line in lines]
    for expected in ("admin.client_created", "admin.user_created", "token.issued",
                     "refresh_token.reuse_detected", "token.revoked", "token.refused",
                     "admin.keys_rotated"):
        assert expected in events, (expected, events)
    issued = [line for line in lines if line["event"] == "token.issued"]
    assert issued[0]["client_id"] == app["client_id"] and issued[0]["jti"] and issued[0]["kid"]
    assert issued[0]["address"] == "127.0.0.1"
    assert any(line.get("kid") == rotated["current"] for line in lines)
    secrets_seen = [app["client_secret"], password, first["refresh_token"], second["refresh_token"],
                    first["access_token"], second["access_token"], first["id_token"]]
    for secret in secrets_seen:
        assert secret not in text
    # Nor a recognisable piece of one.
    for secret in secrets_seen:
        assert secret[:24] not in text


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_unknown_users_cost_a_full_password_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from authserver import hashing

    calls: list[str] = []
    real_hasher = hashing._password_hasher()
    dummy = hashing._dummy_password_hash()

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real_hasher.verify(stored, password)

    monkeypatch.setattr(hashing, "_password_hasher", CountingHasher)
    assert hashing.password_matches("guess", None) is False
    assert calls == [dummy]  # the dummy argon2 hash was really checked


def test_passwords_are_hashed_at_full_cost_outside_the_test_suite(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite hashes cheaply (AUTHSERVER_TEST_FAST_HASHING, conftest.py); a process without
    it hashes with the production parameters (OWASP's m=46 MiB, t=1, p=1)."""
    from authserver import hashing

    assert hashing.hash_password("x").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    monkeypatch.delenv("AUTHSERVER_TEST_FAST_HASHING")
    full = hashing._password_hasher.__wrapped__()  # a new process's choice, not the cached one
    assert full.hash("x").startswith("$argon2id$v=19$m=47104,t=1,p=1$")
