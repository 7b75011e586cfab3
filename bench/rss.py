"""Each worker's memory over a long run: `authserver serve` (2 workers, PostgreSQL) under wrk,
client_credentials and refresh in turns, the RSS of every process of the server sampled after
each load (from /proc). Flat is what a worker should be.

    python -m bench.rss [--minutes 10] [--load-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from .http import authserver, client_credentials, postgres_schema, refresh_tokens


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--load-seconds", type=int, default=20)
    args = parser.parse_args()
    samples: dict[str, list[tuple[int, float | None]]] = {}
    requests = {"client_credentials": 0, "refresh_token": 0}
    errors = 0
    with postgres_schema() as url, authserver(url, workers=2) as server:
        loads = {"client_credentials": client_credentials(server, args.load_seconds),
                 "refresh_token": refresh_tokens(server, args.load_seconds)}
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
