"""Helpers for end-to-end tests: start `authserver serve`, drive the CLI, wait for a condition,
copy keys, a PostgreSQL schema of a test's own. Tokens verified as a third party would are
tests/verifier.py; nginx in front of servers is tests/nginx_front.py."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from .templates import schema_url

AUTHSERVER = [sys.executable, "-m", "authserver"]
T = TypeVar("T")


def without_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without authserver's settings (AUTHSERVER_*) but with the test suite's own
    variables (AUTHSERVER_TEST_*: every process of a run hashes passwords the same way)."""
    return {k: v for k, v in environ.items()
            if not k.startswith("AUTHSERVER_") or k.startswith("AUTHSERVER_TEST_")}


# The ports this worker handed out last: a port is free again here as soon as it is handed
# out, until its server binds it, so two picks in a row (one test's two servers) could agree.
_HANDED_OUT: deque[int] = deque(maxlen=256)


def free_port() -> int:
    """A port no other server of this run is handed. The kernel's ephemeral range (bind to 0)
    is also where every outgoing connection's local port comes from, and under pytest-xdist
    two workers could be handed the same one between its release here and the server's bind;
    so each worker picks at random in a slice of its own below that range, none of the last
    ones it handed out, and checks the port binds."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 20000 + (index % 8) * 1500
    for _ in range(200):
        port = random.randrange(low, low + 1500)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.append(port)
        return port
    raise RuntimeError("no free port in this worker's slice")


class CommandLine:
    """`authserver ARGS` against a server's database and keys (its `env`)."""

    env: dict[str, str]

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True,
        in_process: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run `authserver ARGS` against this server's database and keys: in this process with
        click's CliRunner (a process costs 1.3-1.9 s of imports), or, `in_process=False`, as
        its own process where the process is what a test is about (its audit trail, say)."""
        if in_process:
            result = cli_in_process(list(args), stdin=stdin, env=self.env)
        else:
            result = subprocess.run(
                [*AUTHSERVER, *args], input=stdin, env=self.env, capture_output=True, text=True,
                timeout=60,
            )
        if check and result.returncode != 0:
            raise AssertionError(f"authserver {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args: str, stdin: str | None = None,
                 in_process: bool = True) -> dict[str, Any]:
        return json.loads(self.cli(*args, "--json", stdin=stdin, in_process=in_process).stdout)


@dataclass
class ServerProcess(CommandLine):
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.new_client(base_url=self.base_url)

    def new_client(self, **options: Any) -> httpx.Client:
        """An HTTP client of this server (a browser, a device, a relying party)."""
        return httpx.Client(timeout=10, **options)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cli_in_process(args: list[str], *, stdin: str | None = None,
                   env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`authserver ARGS` through click's CliRunner, with the AUTHSERVER_* variables of `env`
    (and none other of ours): what a subprocess with that environment would answer."""
    from click.testing import CliRunner

    from authserver.cli import main

    ours = {name: value for name, value in env.items() if name.startswith("AUTHSERVER_")}
    unset: dict[str, str | None] = {name: None for name in os.environ
                                    if name not in without_settings(os.environ) | ours}
    result = CliRunner().invoke(main, args, input=stdin, env={**unset, **ours})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["authserver", *args], result.exit_code,
                                       result.stdout, stderr)


def eventually(check: Callable[[], T], done: Callable[[T], bool], *, within: float = 10.0,
               every: float = 0.1) -> T:
    """Poll `check` until `done` says its result is the awaited one, for at most `within`
    seconds; returns the last result (the caller asserts on it). For things that propagate
    (a rotation, a withdrawal, a cut connection): never a fixed sleep."""
    deadline = time.monotonic() + within
    result = check()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(every)
        result = check()
    return result



def clear_counters(redis_url: str, match: str = "*") -> None:
    """Forget the failed-attempt counters in Redis whose keys match: they are shared with
    earlier runs and with the other database's server, and a test that counts failures must
    start from none. Redis is required in CI (.ci/run starts it)."""
    import redis

    try:
        counters = redis.Redis.from_url(redis_url)
        for key in counters.scan_iter(match=match):
            counters.delete(key)
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379; .ci/run starts it")
        pytest.skip("Redis not running")


@contextmanager
def example_service(issuer: str, script: str = "protected_service.py", path: str = "/hello",
                    port: int | None = None, **env: str) -> Iterator[str]:
    """An examples/ service in its own process, protecting `path` with tokens of `issuer`
    (`env`: its other variables, e.g. AUDIENCE); yields the URL once it answers (or fails the
    test within 20 s)."""
    port = port or free_port()
    service = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "examples" / script),
         "--port", str(port)],
        env={**os.environ, "ISSUER": issuer, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}{path}"

    def started() -> bool:
        try:
            httpx.get(url)
            return True
        except httpx.TransportError:
            return False

    try:
        up = eventually(started, lambda ok: ok or service.poll() is not None, within=20)
        assert up, f"the example service did not start: {service.poll()=}"
        yield url
    finally:
        service.terminate()
        service.wait(timeout=10)


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A schema of its own in the test PostgreSQL (`server_url`), dropped afterwards; yields
    the URL that uses it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(server_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def copy_keys(template: Path, workdir: Path) -> Path:
    """A private copy of the session's pre-generated key store (RSA keygen is slow)."""
    destination = workdir / "keys"
    shutil.copytree(template, destination)
    os.chmod(destination, 0o700)
    return destination


def server_env(database_url: str, keys_dir: Path, issuer: str, **extra: str) -> dict[str, str]:
    env = without_settings(os.environ)
    env.update(
        AUTHSERVER_DATABASE_URL=database_url,
        AUTHSERVER_KEYS_DIR=str(keys_dir),
        AUTHSERVER_ISSUER=issuer,
        # Its CLI commands, run from the tests' working directory, audit beside the server.
        AUTHSERVER_INSTANCE_DIR=str(keys_dir.parent / "instance"),
        **extra,
    )
    return env


def start_server(
    workdir: Path,
    *,
    database_url: str,
    keys_dir: Path,
    workers: int = 2,
    threads: int = 2,  # serve's default
    extra_env: dict[str, str] | None = None,
    serve_options: tuple[str, ...] = (),
    timeout: float = 30.0,
    issuer: str | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start `authserver serve`; the issuer is its own URL unless another is given (an instance
    behind a load balancer has the balancer's)."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(database_url, keys_dir, issuer or base_url, **(extra_env or {}))
    log_path = workdir / f"server-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [*AUTHSERVER, "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads), *serve_options],
        cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    server = ServerProcess(base_url, env, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"authserver serve exited early:\n{server.log()}")
        try:
            if server.http.get("/.well-known/openid-configuration").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"authserver serve did not answer in {timeout}s:\n{server.log()}")


@contextmanager
def localhost_server(workdir: Path, key_template: Path) -> Iterator[ServerProcess]:
    """A one-worker `authserver serve` on SQLite whose issuer is http://localhost:PORT: a
    passkey's relying party is a host name, never an IP (Chromium holds to it as well)."""
    port = free_port()
    server = start_server(workdir, database_url=f"sqlite:///{workdir / 'localhost.db'}",
                          keys_dir=copy_keys(key_template, workdir), workers=1, port=port,
                          issuer=f"http://localhost:{port}")
    try:
        yield server
    finally:
        server.stop()


class PrivateRedis:
    """A redis-server of one test's own, on a free port, that the test stops and starts again
    (on the same port, empty: it keeps nothing on disk)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)], stdout=subprocess.DEVNULL)
        assert eventually(self._pings, bool, within=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _pings(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False
