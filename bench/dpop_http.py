"""Goal 4 of issue #34 over HTTP: GET /api/me with a DPoP-bound token and a fresh proof on every
request, against the same call with a Bearer token, on `authserver serve` (2 workers, SQLite).
wrk walks a list of requests with one thread and 16 connections; the proofs are signed
beforehand, right before each run (the client's signing is not counted, and each proof is
fresh: the server takes an iat up to 60 s old), and each is used once. The proofs' jtis are
checked in Redis on one server (AUTHSERVER_RATELIMIT_STORAGE_URL, database 14 of the local
Redis) and in the database on the other. Every figure the median of `--runs` runs of
`--seconds`, taken in turns.

    python -m bench.dpop_http [--seconds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

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


def _run(url: str, lines: Callable[[], list[str]], seconds: int, pid: int
         ) -> Callable[[], LoadResult]:
    """The load, with the server's CPU (process tree `pid`) over the wrk run alone: the proofs
    are signed before it, in this process."""
    def run() -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listed:
            listed.write("\n".join(lines()) + "\n")
        try:
            return metered(lambda: wrk_script(url, LINES_LUA.replace("PATH", listed.name),
                                              threads=1, seconds=seconds), pid)()
        finally:
            Path(listed.name).unlink()
    return run


def _dpop_load(server_url: str, client: dict[str, str], seconds: int, pid: int
               ) -> Callable[[], LoadResult]:
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

    return _run(api, proofs, seconds, pid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with ExitStack() as servers:
        with_redis = servers.enter_context(authserver(
            f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2,
            env={"AUTHSERVER_RATELIMIT_STORAGE_URL": REDIS}))
        without = servers.enter_context(authserver(
            f"sqlite:///{tempfile.mkdtemp()}/bench.db", 2))
        clients = {server.url: server.cli("client", "create", "--name", "bench-dpop",
                                          "--scope", "profile")
                   for server in (with_redis, without)}
        bearer = httpx.post(f"{with_redis.url}/oauth/token",
                            data={"grant_type": "client_credentials"},
                            headers={"Authorization": basic(clients[with_redis.url])}
                            ).json()["access_token"]
        loads = {
            "bearer": _run(f"{with_redis.url}/api/me", lambda: [f"Bearer {bearer}\t"],
                           args.seconds, with_redis.process.pid),
            "dpop_redis": _dpop_load(with_redis.url, clients[with_redis.url], args.seconds,
                                     with_redis.process.pid),
            "dpop_database": _dpop_load(without.url, clients[without.url], args.seconds,
                                        without.process.pid),
        }
        started = time.time()
        results = interleaved(loads, args.runs)
    figures = {name: result.as_dict() for name, result in results.items()}
    rps = {name: result.requests_per_second for name, result in results.items()}
    print(json.dumps({
        "seconds": args.seconds, "runs": args.runs, "minutes": round((time.time() - started) / 60, 1),
        "figures": figures,
        "dpop_redis / bearer": round(rps["dpop_redis"] / rps["bearer"], 3),
        "dpop_database / bearer": round(rps["dpop_database"] / rps["bearer"], 3),
        # By the server's CPU per request (Bearer's over DPoP's; Redis's own CPU not counted).
        "dpop_redis / bearer by CPU": cpu_ratio(results, "bearer", "dpop_redis"),
        "dpop_database / bearer by CPU": cpu_ratio(results, "bearer", "dpop_database"),
    }, indent=2))


if __name__ == "__main__":
    main()
