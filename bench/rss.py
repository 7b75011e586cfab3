"""Each worker's memory over a long run: `authserver serve` (2 workers, PostgreSQL) under wrk,
client_credentials and refresh in turns, the RSS of every process of the server sampled after
each load (from /proc). Flat is what a worker should be.

    python -m bench.rss [--minutes 10] [--load-seconds 20]
                        [--database-url URL --random-clients 100000]

By default on a new, small schema. With `--database-url` on a database filled by
`python -m bench.scale --keep` (its big schema's URL), and `--random-clients N` adds a third
load: client_credentials of a client drawn at random among the fill's first N each request,
which fills each worker's client cache to its bound again and again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from .http import FORM, authserver, client_credentials, postgres_schema, refresh_tokens
from .loadgen import LoadResult, wrk_script


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# One wrk thread; each request a client of the list, drawn at random.
RANDOM_CLIENTS_LUA = """
local credentials = {CREDENTIALS}
math.randomseed(os.time())
request = function()
  return wrk.format("POST", nil, {["Content-Type"] = "FORM",
    ["Authorization"] = credentials[math.random(#credentials)]}, "grant_type=client_credentials")
end
"""


def _random_clients(url: str, count: int, seconds: int) -> Callable[[], LoadResult]:
    """client_credentials of bench.scale's filled clients (client_id md5('client' || i),
    secret 'secret' || i), one drawn at random each request."""
    credentials = ",".join(
        '"Basic ' + base64.b64encode(
            f"{hashlib.md5(f'client{i}'.encode()).hexdigest()}:secret{i}".encode()).decode() + '"'
        for i in range(1, count + 1))
    lua = RANDOM_CLIENTS_LUA.replace("CREDENTIALS", credentials).replace("FORM", FORM)
    return lambda: wrk_script(f"{url}/oauth/token", lua, threads=1, seconds=seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--database-url", help="an existing database (bench.scale --keep)")
    parser.add_argument("--random-clients", type=int, default=0)
    args = parser.parse_args()
    samples: dict[str, list[tuple[int, float | None]]] = {}
    errors = 0
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(postgres_schema())
        server = stack.enter_context(authserver(url, workers=2))
        loads = {"client_credentials": client_credentials(server, args.load_seconds),
                 "refresh_token": refresh_tokens(server, args.load_seconds)}
        if args.random_clients:
            loads["client_credentials, a random client"] = _random_clients(
                server.url, args.random_clients, args.load_seconds)
        requests = dict.fromkeys(loads, 0)
        start = time.monotonic()
        while time.monotonic() - start < args.minutes * 60:
            for name, load in loads.items():
                result = load()
                requests[name] += int(result.requests_per_second * args.load_seconds)
                errors += result.errors
            elapsed = int(time.monotonic() - start)
            for pid in _descendants(server.process.pid):
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                label = f"{pid} {command.decode(errors='replace')[:60].strip()}"
                samples.setdefault(label, []).append((elapsed, _rss_mib(pid)))
    print(json.dumps({"minutes": args.minutes, "requests_approx": requests, "errors": errors,
                      "load_average": os.getloadavg(), "rss_mib": samples}, indent=2))


if __name__ == "__main__":
    main()
