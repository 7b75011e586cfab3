"""Brute-force throttling: failed passwords and client secrets locked out per address, the
limits shared through Redis (over real HTTP against `authserver serve`), X-Forwarded-For from
trusted proxies only, and a Redis outage that is no outage of the token endpoint."""

from __future__ import annotations

import os
import secrets
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

from .helpers import PASSWORD, basic, make_client, make_user
from .support import PrivateRedis, ServerProcess, copy_keys, eventually, free_port, start_server


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


def test_with_redis_the_counters_are_read_in_one_round_trip_as_limits_reads_them(
    private_redis: PrivateRedis,
) -> None:
    """Before each password or secret is checked, its counters are read: with Redis, both in
    one MGET (ops/ratelimit.py), which must say what the `limits` library's own reads say,
    for the per-account-and-address limit and the per-address one alike."""
    from limits import parse

    from authserver.ops.ratelimit import Limits

    limits = Limits(parse("2 per 1 minute"), parse("3 per 1 minute"))
    throttle = FailureThrottle(private_redis.url, limits=limits)
    through_limits = FailureThrottle(private_redis.url, limits=limits)
    through_limits._reads = None  # limits' FixedWindowRateLimiter.test, one GET a key
    stats = redis.Redis.from_url(private_redis.url)

    def both(account: str, address: str) -> tuple[int | None, int | None]:
        mgets = stats.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
        ours = throttle.retry_after("user", account, address)
        assert stats.info("commandstats")["cmdstat_mget"]["calls"] == mgets + 1
        return ours, through_limits.retry_after("user", account, address)

    assert both("alice", "10.0.0.1") == (None, None)
    throttle.failed("user", "alice", "10.0.0.1")
    assert both("alice", "10.0.0.1") == (None, None)
    throttle.failed("user", "alice", "10.0.0.1")  # alice's 2 from there: locked
    ours, theirs = both("alice", "10.0.0.1")
    assert ours is not None and theirs is not None and abs(ours - theirs) <= 1
    assert both("bob", "10.0.0.1") == (None, None)  # 2 of the address's 3
    throttle.failed("user", "bob", "10.0.0.1")  # the address's 3: everyone there waits
    ours, theirs = both("carol", "10.0.0.1")
    assert ours is not None and theirs is not None
    assert both("carol", "10.0.0.2") == (None, None)


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


def test_a_redis_outage_is_no_outage_of_the_token_endpoint(
    tmp_path: Path, key_template: Path, private_redis: PrivateRedis
) -> None:
    keys_dir = copy_keys(key_template, tmp_path)
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'r.db'}",
                          keys_dir=keys_dir,
                          extra_env={"AUTHSERVER_RATELIMIT_STORAGE_URL": private_redis.url})
    try:
        machine = server.cli_json("client", "create", "--name", "machine")
        person = server.cli_json("client", "create", "--name", "app", "--grant-type", "password")
        server.cli_json("user", "create", "--username", "olive", "--password-stdin",
                        stdin="olive-password-1\n")
        private_redis.stop()
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
        private_redis.start()
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


def test_the_counters_read_stays_shared_under_an_acl_without_mget(
    private_redis: PrivateRedis,
) -> None:
    """A Redis user allowed limits' commands but not MGET: the lock another worker counted is
    still seen (limits' own reads), not lost to per-worker counting."""
    from limits import parse

    from authserver.ops.ratelimit import Limits

    admin = redis.Redis.from_url(private_redis.url)
    admin.execute_command("ACL", "SETUSER", "counters", "on", ">counters-pass", "~*", "+@all",
                          "-mget")
    url = private_redis.url.replace("redis://", "redis://counters:counters-pass@")
    limits = Limits(parse("2 per 1 minute"), parse("50 per 1 minute"))
    elsewhere = FailureThrottle(url, limits=limits)
    for _ in range(2):
        elsewhere.failed("user", "dana", "10.0.0.9")
    here = FailureThrottle(url, limits=limits)
    assert here.retry_after("user", "dana", "10.0.0.9") is not None
    assert here.retry_after("user", "erin", "10.0.0.9") is None


def test_many_threads_read_the_counters_whatever_the_urls_max_connections(
    private_redis: PrivateRedis,
) -> None:
    """Each thread keeps a connection of its own, which the URL's max_connections must not
    count: threads come and go, and the sixth would otherwise lose the shared counters."""
    import threading

    from limits import parse

    from authserver.ops.ratelimit import Limits

    url = private_redis.url + "?max_connections=2"
    throttle = FailureThrottle(url, limits=Limits(parse("1 per 1 minute"),
                                                  parse("50 per 1 minute")))
    throttle.failed("user", "fay", "10.0.0.8")
    seen: list[int | None] = []

    def read() -> None:
        seen.append(throttle.retry_after("user", "fay", "10.0.0.8"))

    for _ in range(6):  # one after another: each thread's connection stays open
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    assert len(seen) == 6 and None not in seen


def test_the_outage_log_line_does_not_show_the_redis_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The counters' URL may carry Redis's password: the lines saying the store went and came
    back name the store without it."""
    url = f"redis://counters:secret-redis-pass@127.0.0.1:{free_port()}/0"  # nothing listens
    throttle = FailureThrottle(url)
    with caplog.at_level("ERROR", logger="authserver"):
        assert throttle.retry_after("user", "gus", "10.0.0.7") is None  # counted per worker
    assert "unreachable" in caplog.text
    assert "secret-redis-pass" not in caplog.text
    assert "127.0.0.1" in caplog.text
