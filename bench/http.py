"""Load over HTTP with wrk against `authserver serve` on 127.0.0.1, beside its ceilings measured
in the same run: a bare Flask endpoint under the same gunicorn settings, and optionally the
peer (node oidc-provider, see bench/peer.py).

    python -m bench.http [--seconds 5] [--runs 3] [--peer]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from .loadgen import LoadResult, median_of, parse, wrk

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {process.args}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


class Authserver:
    def __init__(self, workdir: Path, database_url: str, workers: int, threads: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "AUTHSERVER_DATABASE_URL": database_url,
                    "AUTHSERVER_KEYS_DIR": str(workdir / "keys"), "AUTHSERVER_ISSUER": self.url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "authserver", "serve", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)],
            cwd=workdir, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(f"{self.url}/.well-known/openid-configuration", self.process)

    def cli(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        out = subprocess.run([sys.executable, "-m", "authserver", *args, "--json"], env=self.env,
                             input=stdin, capture_output=True, text=True, check=True).stdout
        return json.loads(out)  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@contextmanager
def authserver(database_url: str, workers: int, threads: int = 1) -> Iterator[Authserver]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    server = Authserver(workdir, database_url, workers, threads)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_schema() -> Iterator[str]:
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    engine = create_engine(POSTGRES)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def bare_flask(workers: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "bench.bare_app:app"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/ping"
    wait_for(url, process)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def runs(count: int, **kwargs: Any) -> LoadResult:
    return median_of([wrk(**kwargs) for _ in range(count)])


def basic(client: dict[str, Any]) -> str:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


FORM = "application/x-www-form-urlencoded"


def client_credentials(server: Authserver, count: int, seconds: int) -> LoadResult:
    client = server.cli("client", "create", "--name", "bench", "--scope", "profile")
    return runs(count, url=f"{server.url}/oauth/token", method="POST",
                body="grant_type=client_credentials",
                headers={"Content-Type": FORM, "Authorization": basic(client)}, seconds=seconds)


def refresh_tokens(server: Authserver, count: int, seconds: int) -> LoadResult:
    """Each wrk request uses a refresh token once and keeps the rotated one for later."""
    client = server.cli("client", "create", "--name", "bench", "--grant-type", "password",
                        "--grant-type", "refresh_token", "--scope", "notes:read")
    server.cli("user", "create", "--username", "bench", "--password-stdin", stdin="bench-pass-1\n")
    results = []
    for _ in range(count):
        # A fresh pool each run: the previous run's tokens were rotated away, and presenting
        # them again would (rightly) revoke their families.
        with httpx.Client(base_url=server.url) as http:
            pool = [http.post("/oauth/token", data={
                "grant_type": "password", "username": "bench", "password": "bench-pass-1"},
                headers={"Authorization": basic(client)}).json()["refresh_token"]
                for _ in range(32)]
        script = Path(tempfile.mkdtemp()) / "refresh.lua"
        script.write_text(REFRESH_LUA.replace("TOKENS", ",".join(f'"{t}"' for t in pool))
                          .replace("AUTH", basic(client)))
        output = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency", "-s", str(script),
             f"{server.url}/oauth/token"], capture_output=True, text=True, check=True).stdout
        results.append(parse(output))
    return median_of(results)


# One wrk thread, a pool of refresh tokens: request() takes one, response() returns the
# rotated one to the pool. Any 4xx would shrink the pool and show up as errors.
REFRESH_LUA = """
local pool = {TOKENS}
request = function()
  local token = table.remove(pool, 1)
  if token == nil then token = "exhausted" end
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "AUTH"}, "grant_type=refresh_token&refresh_token=" .. token)
end
response = function(status, headers, body)
  local token = string.match(body, '"refresh_token": *"([^"]+)"')
  if token then table.insert(pool, token) end
end
"""


def password_grant(server: Authserver, count: int, seconds: int) -> LoadResult:
    client = server.cli("client", "create", "--name", "bench-pw", "--grant-type", "password",
                        "--scope", "notes:read")
    server.cli("user", "create", "--username", "pw", "--password-stdin", stdin="bench-pass-2\n")
    # Two connections: argon2id (64 MiB, t=3, p=4) takes tens of milliseconds a check, and
    # more connections would only queue past wrk's 2 s timeout.
    return runs(count, url=f"{server.url}/oauth/token", method="POST",
                body="grant_type=password&username=pw&password=bench-pass-2",
                headers={"Content-Type": FORM, "Authorization": basic(client)}, seconds=seconds,
                connections=2)


def protected_vs_unprotected(server: Authserver, count: int, seconds: int) -> tuple[LoadResult, LoadResult]:
    client = server.cli("client", "create", "--name", "bench-api", "--scope", "profile")
    token = httpx.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                       headers={"Authorization": basic(client)}).json()["access_token"]
    protected = runs(count, url=f"{server.url}/api/me",
                     headers={"Authorization": f"Bearer {token}"}, seconds=seconds)
    # The same request, Authorization header included, to an endpoint that ignores it: the
    # difference is the protector (and the view), not the extra bytes on the wire.
    unprotected = runs(count, url=f"{server.url}/healthz",
                       headers={"Authorization": f"Bearer {token}"}, seconds=seconds)
    return protected, unprotected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peer", action="store_true", help="also run node oidc-provider")
    args = parser.parse_args()
    sqlite = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    figures: dict[str, Any] = {}
    with bare_flask(args.workers) as url:
        figures["bare_flask"] = runs(args.runs, url=url, seconds=args.seconds).as_dict()
    with authserver(sqlite, 1) as server:
        figures["client_credentials_1_worker"] = client_credentials(server, args.runs, args.seconds).as_dict()
    with authserver(sqlite, args.workers) as server:
        figures["client_credentials"] = client_credentials(server, args.runs, args.seconds).as_dict()
        protected, unprotected = protected_vs_unprotected(server, args.runs, args.seconds)
        figures["protected_api_me"] = protected.as_dict()
        figures["unprotected_healthz"] = unprotected.as_dict()
        figures["refresh_sqlite"] = refresh_tokens(server, args.runs, args.seconds).as_dict()
        figures["password_grant"] = password_grant(server, args.runs, args.seconds).as_dict()
    with postgres_schema() as url, authserver(url, args.workers) as server:
        figures["client_credentials_postgres"] = client_credentials(server, args.runs, args.seconds).as_dict()
        figures["refresh_postgres"] = refresh_tokens(server, args.runs, args.seconds).as_dict()
    if args.peer:
        from .peer import oidc_provider

        with oidc_provider() as peer:
            figures["oidc_provider_client_credentials"] = runs(
                args.runs, url=peer.token_url, method="POST", body=peer.body,
                headers={"Content-Type": FORM, "Authorization": peer.authorization},
                seconds=args.seconds).as_dict()
    rps = {name: figure["rps"] for name, figure in figures.items()}
    cc = rps["client_credentials"]
    ratios = {
        "client_credentials_vs_bare_flask": cc / rps["bare_flask"],
        "protected_vs_unprotected": rps["protected_api_me"] / rps["unprotected_healthz"],
        "refresh_postgres_vs_client_credentials_postgres":
            rps["refresh_postgres"] / rps["client_credentials_postgres"],
    }
    if "oidc_provider_client_credentials" in rps:
        ratios["client_credentials_vs_oidc_provider"] = cc / rps["oidc_provider_client_credentials"]
    figures["ratios"] = {k: round(v, 3) for k, v in ratios.items()}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
