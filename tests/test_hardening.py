"""Brute-force throttling (over real HTTP against `authserver serve`, shared through Redis),
the audit log of a full cycle, and the constant-time check for unknown users."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from authserver import create_app
from authserver.config import Settings
from authserver.ops.ratelimit import FailureThrottle

from .forked_cli import forked_cli
from .helpers import PASSWORD, basic, make_client, make_user
from .support import ServerProcess, copy_keys, eventually, free_port, server_env, start_server


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379; .ci/run starts it")
        pytest.skip("Redis not running")
    # Start from clean counters: earlier runs on this machine share the Redis and the address.
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match="*LIMITER/authserver/*"):
        client.delete(key)
    return url


@pytest.fixture(scope="module")
def throttled(
    tmp_path_factory: pytest.TempPathFactory, key_template: Path, redis_url: str
) -> Iterator[ServerProcess]:
    """`serve --workers 2` with the limits in Redis, shared by both workers (the in-memory
    default counts per worker process)."""
    tmp_path = tmp_path_factory.mktemp("throttled")
    keys_dir = copy_keys(key_template, tmp_path)
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 't.db'}",
                          keys_dir=keys_dir,
                          extra_env={"AUTHSERVER_RATELIMIT_STORAGE_URL": redis_url})
    yield server
    server.stop()


def password_attempt(http: httpx.Client, app: dict, username: str, password: str) -> httpx.Response:
    return http.post("/oauth/token", auth=(app["client_id"], app["client_secret"]), data={
        "grant_type": "password", "username": username, "password": password})


def test_failed_passwords_are_throttled_with_retry_after(throttled: ServerProcess) -> None:
    server = throttled
    app = server.cli_json("client", "create", "--name", "throttle", "--grant-type", "password")
    name = f"victim{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", name, "--password-stdin", stdin="right-pass-1\n")
    failures = [password_attempt(server.http, app, name, "wrong").status_code for _ in range(5)]
    assert failures == [400] * 5
    blocked = password_attempt(server.http, app, name, "right-pass-1")
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 301
    assert blocked.json()["error"] == "temporarily_unavailable"
    # Another account from the same address is not locked out by the victim's failures.
    other = f"other{secrets.token_hex(3)}"
    server.cli_json("user", "create", "--username", other, "--password-stdin", stdin="right-pass-2\n")
    assert password_attempt(server.http, app, other, "right-pass-2").status_code == 200


def test_failed_client_authentication_is_throttled(throttled: ServerProcess) -> None:
    server = throttled
    app = server.cli_json("client", "create", "--name", "guessed")
    for _ in range(5):
        response = server.http.post("/oauth/token", auth=(app["client_id"], "guess"),
                                    data={"grant_type": "client_credentials"})
        assert response.status_code == 401
    blocked = server.http.post("/oauth/token", auth=(app["client_id"], app["client_secret"]),
                               data={"grant_type": "client_credentials"})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers


def test_successes_do_not_count(throttled: ServerProcess) -> None:
    server = throttled
    app = server.cli_json("client", "create", "--name", "busy")
    for _ in range(30):
        response = server.http.post("/oauth/token", auth=(app["client_id"], app["client_secret"]),
                                    data={"grant_type": "client_credentials"})
        assert response.status_code == 200


def test_lockout_is_per_address_and_ends_with_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    from limits import parse

    from authserver.ops.ratelimit import Limits

    throttle = FailureThrottle(limits=Limits(parse("2 per 1 minute"), parse("100 per 1 minute")))
    for _ in range(2):
        throttle.failed("user", "alice", "10.0.0.66")
    assert throttle.retry_after("user", "alice", "10.0.0.66")
    assert throttle.retry_after("user", "alice", "10.0.0.1") is None  # the real alice, elsewhere
    # The window ends: move the clock the limits library reads (time.time) past it.
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert throttle.retry_after("user", "alice", "10.0.0.66") is None


def test_two_servers_share_the_limit_through_redis(
    tmp_path: Path, key_template: Path, redis_url: str
) -> None:
    keys_dir = copy_keys(key_template, tmp_path)
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"AUTHSERVER_RATELIMIT_STORAGE_URL": redis_url}
    a = start_server(tmp_path, database_url=database, keys_dir=keys_dir, extra_env=env)
    b = start_server(tmp_path, database_url=database, keys_dir=keys_dir, extra_env=env)
    try:
        app = a.cli_json("client", "create", "--name", "shared", "--grant-type", "password")
        name = f"shared{secrets.token_hex(4)}"
        a.cli_json("user", "create", "--username", name, "--password-stdin", stdin="shared-pass-1\n")
        for http in (a.http, b.http, a.http, b.http, a.http):
            assert password_attempt(http, app, name, "wrong").status_code == 400
        assert password_attempt(b.http, app, name, "shared-pass-1").status_code == 429
    finally:
        a.stop()
        b.stop()


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


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_throttling_believes_x_forwarded_for_only_from_trusted_proxies(
    settings: Settings, trusted_proxies: int
) -> None:
    app = create_app(settings.override(trusted_proxies=trusted_proxies))
    client = app.test_client()
    creds = make_client(app, grant_types=["password"])
    make_user(app)
    attacker, victim = {"X-Forwarded-For": "203.0.113.66"}, {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(5):
        failed = client.post("/oauth/token", headers={**basic(*creds), **attacker}, data={
            "grant_type": "password", "username": "alice", "password": "wrong-guess"})
        assert failed.status_code == 400
    answer = client.post("/oauth/token", headers={**basic(*creds), **victim}, data={
        "grant_type": "password", "username": "alice", "password": PASSWORD})
    # Behind one trusted proxy the addresses differ, so the victim is not locked out; with
    # none trusted the header is ignored and everyone shares the proxy's address.
    assert answer.status_code == (200 if trusted_proxies else 429)
    app.extensions["authserver.db"].dispose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A Redis of this test's own, on a free port, that the test stops and starts."""
    port = free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]
    state: dict[str, Any] = {"url": f"redis://127.0.0.1:{port}/0", "command": command}

    def start() -> None:
        state["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        up = eventually(lambda: _pings(state["url"]), bool, within=10)
        assert up, "redis-server did not start"

    def stop() -> None:
        state["process"].terminate()
        state["process"].wait(timeout=10)

    state.update(start=start, stop=stop)
    start()
    yield state
    if state["process"].poll() is None:
        stop()


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def test_a_redis_outage_is_no_outage_of_the_token_endpoint(
    tmp_path: Path, key_template: Path, own_redis: dict[str, Any]
) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    keys_dir = copy_keys(key_template, tmp_path)
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}",
                          keys_dir=keys_dir,
                          extra_env={"AUTHSERVER_RATELIMIT_STORAGE_URL": own_redis["url"]})
    try:
        machine = server.cli_json("client", "create", "--name", "machine")
        person = server.cli_json("client", "create", "--name", "app", "--grant-type", "password")
        server.cli_json("user", "create", "--username", "olive", "--password-stdin",
                        stdin="olive-password-1\n")
        own_redis["stop"]()
        answers = []
        for _ in range(3):
            answers.append(server.http.post("/oauth/token", auth=_pair(machine),
                                            data={"grant_type": "client_credentials"}))
            answers.append(password_attempt(server.http, person, "olive", "olive-password-1"))
        # Grants go on; a password is still checked, and throttled, per worker meanwhile.
        assert [a.status_code for a in answers] == [200] * 6
        wrong = [password_attempt(server.http, person, "olive", "wrong").status_code
                 for _ in range(12)]
        assert set(wrong) <= {400, 429} and 429 in wrong
        ready = server.http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["counters"].startswith("unavailable")
        own_redis["start"]()
        back = eventually(lambda: server.http.get("/readyz").json()["checks"]["counters"],
                          lambda state: state == "ok", within=15)
        assert back == "ok"
        # Counting is shared again once a worker has retried the store (every 5 s).
        eventually(lambda: password_attempt(server.http, person, "olive", "olive-password-1"),
                   lambda answer: "are back" in server.log(), within=20, every=0.5)
        log = server.log()
        assert "Traceback" not in log
        # One line when the store went, per worker, not one per request.
        assert 1 <= log.count("are unreachable") <= 2
    finally:
        server.stop()


def _pair(app: dict[str, Any]) -> tuple[str, str]:
    return app["client_id"], app["client_secret"]
