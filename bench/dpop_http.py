"""Goal 4 of issue #34 over HTTP: GET /api/me with a DPoP-bound token and a fresh proof on every
request, against the same call with a Bearer token, on `authserver serve` (2 workers, SQLite).
wrk walks a list of requests with one thread and 16 connections; the proofs are signed
beforehand, right before each run (the client's signing is not counted, and each proof is
fresh: the server takes an iat up to 60 s old), and each is used once. The proofs' jtis are
checked in Redis on one server (AUTHSERVER_RATELIMIT_STORAGE_URL, database 14 of the local
Redis) and in the database on the other. Every figure the median of `--runs` runs of
`--seconds`, taken in turns. Redis's own CPU is metered too (`database_cpu_us_per_request` of
the Redis loads): the "by machine CPU" ratios add it to the DPoP call's.

    python -m bench.dpop_http [--seconds 5] [--runs 3]
    python -m bench.dpop_http --tree before=/tmp/before --tree after=.

With `--tree` (a directory holding an `authserver` package, served with PYTHONPATH set to
it), each tree gets its Redis-backed server and its Bearer and DPoP loads, all in turns, as
bench.served_ab does for refresh; the database-backed server is left out.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.dpop_client import DPoPKey

from .http import FORM, authserver, basic
from .loadgen import LoadResult, cpu_ratio, interleaved, metered, wrk_script

REDIS = "redis://127.0.0.1:6379/14"
# Proofs signed for each run: more than a run can use (a reused proof would be refused, and
# counted as an error).
PROOFS_PER_SECOND = 5000

# One wrk thread walks the file's lines (one Authorization and DPoP header pair a line).
LINES_LUA = """
local lines = {}
for line in io.lines("PATH") do table.insert(lines, line) end
local n = 0
request = function()
  n = n % #lines + 1
  local authorization, proof = string.match(lines[n], "^([^\\t]*)\\t(.*)$")
  local headers = {["Authorization"] = authorization}
  if proof ~= "" then headers["DPoP"] = proof end
  return wrk.format("GET", nil, headers, nil)
end
"""


def _run(url: str, lines: Callable[[], list[str]], seconds: int, pid: int,
         redis_pid: int | None = None) -> Callable[[], LoadResult]:
    """The load, with the server's CPU (process tree `pid`) and Redis's (`redis_pid`) over the
    wrk run alone: the proofs are signed before it, in this process."""
    def run() -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listed:
            listed.write("\n".join(lines()) + "\n")
        try:
            return metered(lambda: wrk_script(url, LINES_LUA.replace("PATH", listed.name),
                                              threads=1, seconds=seconds), pid, redis_pid)()
        finally:
            Path(listed.name).unlink()
    return run


def _dpop_load(server_url: str, client: dict[str, str], seconds: int, pid: int,
               redis_pid: int | None = None) -> Callable[[], LoadResult]:
    key = DPoPKey()
    token = httpx.post(f"{server_url}/oauth/token", data={"grant_type": "client_credentials"},
                       headers={"Authorization": basic(client), "Content-Type": FORM,
                                "DPoP": key.proof("POST", f"{server_url}/oauth/token")}
                       ).json()
    assert token["token_type"] == "DPoP", token
    access = token["access_token"]
    api = f"{server_url}/api/me"

    def proofs() -> list[str]:
        return [f"DPoP {access}\t{key.proof('GET', api, access_token=access)}"
                for _ in range(PROOFS_PER_SECOND * seconds)]

    return _run(api, proofs, seconds, pid, redis_pid)


def _redis_loads(server: Any, name: str, seconds: int, redis_pid: int
                 ) -> dict[str, Callable[[], LoadResult]]:
    """Bearer and DPoP (jtis in Redis) against `server`, named `bearer<name>`,
    `dpop_redis<name>`."""
    client = server.cli("client", "create", "--name", "bench-dpop", "--scope", "profile")
    bearer = httpx.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                        headers={"Authorization": basic(client)}).json()["access_token"]
    pid = server.process.pid
    return {
        f"bearer{name}": _run(f"{server.url}/api/me", lambda: [f"Bearer {bearer}\t"], seconds,
                              pid, redis_pid),
        f"dpop_redis{name}": _dpop_load(server.url, client, seconds, pid, redis_pid),
    }


def _ratios(results: dict[str, LoadResult], name: str = "") -> dict[str, float]:
    bearer, dpop = results[f"bearer{name}"], results[f"dpop_redis{name}"]
    return {
        f"dpop_redis / bearer{name}": round(dpop.requests_per_second
                                            / bearer.requests_per_second, 3),
        # By the server's CPU per request (Bearer's over DPoP's), then with Redis's added.
        f"dpop_redis / bearer{name} by CPU": cpu_ratio(results, f"bearer{name}",
                                                       f"dpop_redis{name}"),
        f"dpop_redis / bearer{name} by machine CPU": cpu_ratio(
            results, f"bearer{name}", f"dpop_redis{name}", with_database=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", action="append", help="name=directory (repeat: in turns)")
    args = parser.parse_args()
    redis_pid = int(redis.Redis.from_url(REDIS).info("server")["process_id"])
    ratios: dict[str, float] = {}
    with ExitStack() as servers:
        loads: dict[str, Callable[[], LoadResult]] = {}
        for name, directory in (tree.split("=", 1) for tree in args.tree or []):
            path = str(Path(directory).resolve())
            assert (Path(path) / "authserver").is_dir(), f"no authserver package in {path}"
            server = servers.enter_context(authserver(
                f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2,
                env={"AUTHSERVER_RATELIMIT_STORAGE_URL": REDIS, "PYTHONPATH": path}))
            loads.update(_redis_loads(server, f", {name}", args.seconds, redis_pid))
        if not args.tree:
            with_redis = servers.enter_context(authserver(
                f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2,
                env={"AUTHSERVER_RATELIMIT_STORAGE_URL": REDIS}))
            without = servers.enter_context(authserver(
                f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2))
            loads.update(_redis_loads(with_redis, "", args.seconds, redis_pid))
            client = without.cli("client", "create", "--name", "bench-dpop", "--scope", "profile")
            loads["dpop_database"] = _dpop_load(without.url, client, args.seconds,
                                                without.process.pid)
        started = time.time()
        results = interleaved(loads, args.runs)
    for name, _ in (tree.split("=", 1) for tree in args.tree or []):
        ratios.update(_ratios(results, f", {name}"))
    if not args.tree:
        ratios.update(_ratios(results))
        ratios["dpop_database / bearer"] = round(results["dpop_database"].requests_per_second
                                                 / results["bearer"].requests_per_second, 3)
        ratios["dpop_database / bearer by CPU"] = cpu_ratio(results, "bearer", "dpop_database")
    print(json.dumps({
        "seconds": args.seconds, "runs": args.runs,
        "minutes": round((time.time() - started) / 60, 1),
        "figures": {name: result.as_dict() for name, result in results.items()},
        "ratios": ratios,
    }, indent=2))


if __name__ == "__main__":
    main()
