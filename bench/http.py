"""Load over HTTP with wrk against `authserver serve` on 127.0.0.1, beside its ceilings measured
in the same run: a bare Flask endpoint under the same Granian settings, and optionally the
peer (node oidc-provider, see bench/peer.py).

    python -m bench.http [--seconds 5] [--runs 3] [--peer]

Every server is started first; then each figure's wrk runs are taken in turns with the others'.
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from authserver.resource_server import VERIFIED_CACHE_SIZE

from .ceilings import bare_flask, raw_rs256_signature_us
from .databases import postgres_pid, postgres_schema
from .loadgen import (
    LoadResult,
    cpu_ratio,
    free_port,
    interleaved,
    metered,
    wait_for,
    wrk,
    wrk_script,
)


class Authserver:
    def __init__(self, workdir: Path, database_url: str, workers: int,
                 threads: int | None, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "AUTHSERVER_DATABASE_URL": database_url,
                    "AUTHSERVER_KEYS_DIR": str(workdir / "keys"), "AUTHSERVER_ISSUER": self.url,
                    **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "authserver", "serve", "--port", str(self.port),
             "--workers", str(workers),
             *(["--threads", str(threads)] if threads is not None else [])],  # else serve's
            cwd=workdir, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{self.url}/.well-known/openid-configuration", self.process)
        except BaseException:
            self.stop()  # no server left running when the benchmark gives up
            raise

    def cli(self, *args: str, stdin: str | None = None) -> dict[str, Any]:
        out = subprocess.run([sys.executable, "-m", "authserver", *args, "--json"], env=self.env,
                             input=stdin, capture_output=True, text=True, check=True).stdout
        return json.loads(out)  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@contextmanager
def authserver(database_url: str, workers: int, threads: int | None = None,
               env: dict[str, str] | None = None) -> Iterator[Authserver]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    server = Authserver(workdir, database_url, workers, threads, env)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def basic(client: dict[str, Any]) -> str:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


FORM = "application/x-www-form-urlencoded"


def client_credentials(server: Authserver, seconds: int) -> Callable[[], LoadResult]:
    client = server.cli("client", "create", "--name", "bench", "--scope", "profile")
    return lambda: wrk(url=f"{server.url}/oauth/token", method="POST",
                       body="grant_type=client_credentials",
                       headers={"Content-Type": FORM, "Authorization": basic(client)},
                       seconds=seconds)


def refresh_tokens(server: Authserver, seconds: int) -> Callable[[], LoadResult]:
    """Each wrk request uses a refresh token once and keeps the rotated one for later."""
    client = server.cli("client", "create", "--name", "bench", "--grant-type", "password",
                        "--grant-type", "refresh_token", "--scope", "notes:read")
    username = f"bench-{server.port}"
    server.cli("user", "create", "--username", username, "--password-stdin",
               stdin="bench-pass-1\n")

    pool: list[str] = []

    def prepare() -> None:
        # A fresh pool each run: the previous run's tokens were rotated away, and presenting
        # them again would (rightly) revoke their families. Outside the metered run: 32
        # password grants are 32 argon2id verifications.
        with httpx.Client(base_url=server.url) as http:
            pool[:] = [http.post("/oauth/token", data={
                "grant_type": "password", "username": username, "password": "bench-pass-1"},
                headers={"Authorization": basic(client)}).json()["refresh_token"]
                for _ in range(32)]

    def run() -> LoadResult:
        if not pool:
            prepare()
        lua = (REFRESH_LUA.replace("TOKENS", ",".join(f'"{t}"' for t in pool))
               .replace("AUTH", basic(client)))
        pool.clear()
        return wrk_script(f"{server.url}/oauth/token", lua, threads=1, seconds=seconds)

    run.prepare = prepare  # type: ignore[attr-defined]
    return run


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


def password_grant(server: Authserver, seconds: int) -> Callable[[], LoadResult]:
    client = server.cli("client", "create", "--name", "bench-pw", "--grant-type", "password",
                        "--scope", "notes:read")
    server.cli("user", "create", "--username", "pw", "--password-stdin", stdin="bench-pass-2\n")
    # Two connections: argon2id (64 MiB, t=3, p=4) takes tens of milliseconds a check, and
    # more connections would only queue past wrk's 2 s timeout.
    return lambda: wrk(url=f"{server.url}/oauth/token", method="POST",
                       body="grant_type=password&username=pw&password=bench-pass-2",
                       headers={"Content-Type": FORM, "Authorization": basic(client)},
                       seconds=seconds, connections=2)


def protected_and_unprotected(
    server: Authserver, seconds: int
) -> tuple[Callable[[], LoadResult], Callable[[], LoadResult]]:
    client = server.cli("client", "create", "--name", "bench-api", "--scope", "profile")
    token = httpx.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                       headers={"Authorization": basic(client)}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    # The same request, Authorization header included, to an endpoint that ignores it: the
    # difference is the protector (and the view), not the extra bytes on the wire.
    return (lambda: wrk(url=f"{server.url}/api/me", headers=bearer, seconds=seconds),
            lambda: wrk(url=f"{server.url}/healthz", headers=bearer, seconds=seconds))


def protected_new_tokens(server: Authserver, seconds: int, count: int) -> Callable[[], LoadResult]:
    """GET /api/me with `count` distinct tokens in turn, so that every request pays the full
    signature check (the cache-miss path): each worker sees about count / workers of them
    before one comes back, and that must be more than its cache of verified tokens holds."""
    client = server.cli("client", "create", "--name", "bench-api-miss", "--scope", "profile")
    with httpx.Client(base_url=server.url) as http:
        tokens = [http.post("/oauth/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": basic(client)}).json()["access_token"]
                  for _ in range(count)]
    lua = TOKENS_LUA.replace("TOKENS", ",".join(f'"{t}"' for t in tokens))
    return lambda: wrk_script(f"{server.url}/api/me", lua, threads=1, seconds=seconds)


# One wrk thread walks the token list round and round.
TOKENS_LUA = """
local tokens = {TOKENS}
local n = 0
request = function()
  n = n % #tokens + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[n]}, nil)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peer", action="store_true", help="also run node oidc-provider")
    args = parser.parse_args()
    sqlite = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    seconds = args.seconds
    with ExitStack() as servers:
        # Every server is up for the whole run (idle, it costs nothing): figures go in turns.
        bare_url, bare_pid = servers.enter_context(bare_flask(args.workers))
        one_worker = servers.enter_context(authserver(sqlite, 1))
        main_server = servers.enter_context(authserver(sqlite, args.workers))
        postgres = servers.enter_context(authserver(
            servers.enter_context(postgres_schema()), args.workers))
        protected, unprotected = protected_and_unprotected(main_server, seconds)
        ours, database = main_server.process.pid, postgres_pid()
        loads = {
            "bare_flask": metered(lambda: wrk(url=bare_url, seconds=seconds), bare_pid),
            "client_credentials": metered(client_credentials(main_server, seconds), ours),
            "client_credentials_1_worker": metered(client_credentials(one_worker, seconds),
                                                   one_worker.process.pid),
            "protected_api_me": metered(protected, ours),
            "unprotected_healthz": metered(unprotected, ours),
            "protected_api_me_new_tokens": metered(protected_new_tokens(
                main_server, seconds, count=args.workers * VERIFIED_CACHE_SIZE + 2000), ours),
            # Metered with PostgreSQL's CPU too: it shares the two cores with ours.
            "client_credentials_postgres": metered(client_credentials(postgres, seconds),
                                                   postgres.process.pid, database),
            "refresh_postgres": metered(refresh_tokens(postgres, seconds), postgres.process.pid,
                                        database),
            "refresh_sqlite": refresh_tokens(main_server, seconds),
            "password_grant": password_grant(main_server, seconds),
        }
        if args.peer:
            from .peer import oidc_provider

            peer = servers.enter_context(oidc_provider())
            loads["oidc_provider_client_credentials"] = metered(lambda: wrk(
                url=peer.token_url, method="POST", body=peer.body,
                headers={"Content-Type": FORM, "Authorization": peer.authorization},
                seconds=seconds), peer.pid)
        results = interleaved(loads, args.runs)
        figures = {name: result.as_dict() for name, result in results.items()}
    rps = {name: figure["rps"] for name, figure in figures.items()}
    # A ceiling of our own for goal 1 (proposed in RESULTS.md): a token request within twice
    # the bare endpoint's CPU plus one raw RS256 signature's. Above 1, within it.
    signature = raw_rs256_signature_us()
    ceiling = 2 * ((results["bare_flask"].server_cpu_us or 0) + signature)
    cc = rps["client_credentials"]
    ratios = {
        "client_credentials_vs_bare_flask": cc / rps["bare_flask"],
        "client_credentials_within_ceiling_by_cpu":
            ceiling / (results["client_credentials"].server_cpu_us or 1),
        "protected_vs_unprotected": rps["protected_api_me"] / rps["unprotected_healthz"],
        "protected_new_tokens_vs_unprotected":
            rps["protected_api_me_new_tokens"] / rps["unprotected_healthz"],
        "refresh_postgres_vs_client_credentials_postgres":
            rps["refresh_postgres"] / rps["client_credentials_postgres"],
        # The same comparisons by the server's CPU per request (the other's over ours: above
        # 1, ours costs less), which wrk's share of the two cores does not blur.
        "protected_vs_unprotected_by_cpu": cpu_ratio(results, "unprotected_healthz",
                                                      "protected_api_me"),
        "refresh_postgres_vs_client_credentials_postgres_by_cpu": cpu_ratio(
            results, "client_credentials_postgres", "refresh_postgres", with_database=True),
    }
    if "oidc_provider_client_credentials" in rps:
        ratios["client_credentials_vs_oidc_provider"] = cc / rps["oidc_provider_client_credentials"]
        ratios["client_credentials_vs_oidc_provider_by_cpu"] = cpu_ratio(
            results, "oidc_provider_client_credentials", "client_credentials")
    print(json.dumps({**figures, "raw_rs256_signature_us": round(signature),
                      "ratios": {k: round(v, 3) for k, v in ratios.items()}},
                     indent=2))


if __name__ == "__main__":
    main()
