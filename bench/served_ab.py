"""Before and after, served: `authserver serve` from two code trees (say, main as it was and
this checkout), each on a PostgreSQL schema of its own, under the same wrk loads taken in turns
(bench.http's client_credentials and refresh), each metered with its server's CPU and
PostgreSQL's. bench.ab compares two trees in process; this is the same over HTTP.

    python -m bench.served_ab --tree before=/tmp/before --tree after=. [--seconds 5] [--runs 3]

A tree is a directory holding an `authserver` package; its server runs with PYTHONPATH set
to it.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from .databases import postgres_pid, postgres_schema
from .http import authserver, client_credentials, refresh_tokens
from .loadgen import interleaved, metered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", required=True, help="name=directory")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    trees = [tree.split("=", 1) for tree in args.tree]
    database = postgres_pid()
    loads = {}
    with ExitStack() as servers:
        for name, directory in trees:
            path = str(Path(directory).resolve())
            assert (Path(path) / "authserver").is_dir(), f"no authserver package in {path}"
            server = servers.enter_context(authserver(
                servers.enter_context(postgres_schema()), args.workers,
                env={"PYTHONPATH": path}))
            pid = server.process.pid
            loads[f"client_credentials_postgres, {name}"] = metered(
                client_credentials(server, args.seconds), pid, database)
            loads[f"refresh_postgres, {name}"] = metered(
                refresh_tokens(server, args.seconds), pid, database)
        results = interleaved(loads, args.runs)
    figures = {name: result.as_dict() for name, result in results.items()}
    ratios = {}
    for name, _ in trees:
        cc, refresh = (results[f"{load}, {name}"] for load in
                       ("client_credentials_postgres", "refresh_postgres"))
        machine = [(r.server_cpu_us or 0) + (r.database_cpu_us or 0) for r in (cc, refresh)]
        ratios[f"{name}: refresh / client_credentials, by rate"] = round(
            refresh.requests_per_second / cc.requests_per_second, 3)
        ratios[f"{name}: refresh / client_credentials, by machine CPU"] = round(
            machine[0] / machine[1], 3)
    print(json.dumps({**figures, "ratios": ratios}, indent=2))


if __name__ == "__main__":
    main()
