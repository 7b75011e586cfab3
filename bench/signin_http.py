"""Sign-ins served: `authserver serve` (2 workers, SQLite) and browsers at once, each a new
httpx client doing the whole code flow (the authorization request, the login form, the consent
form, the code exchange: bench/signin.py's steps, over HTTP). What a sign-in costs the server
(the CPU of all its processes and threads, from /proc, over the sign-ins done), beside a raw
argon2id verification of the same hash in this process, measured in the same run: the figure
to size logins per core with (docs/sizing.md), argon2's cache sweeps under concurrency
included.

    python -m bench.signin_http [--browsers 4] [--seconds 20] [--rounds 3]

The browsers are this process's threads and share the machine's cores with the server: the
server's CPU per sign-in is what counts, the rate is what two cores gave both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from .http import authserver
from .loadgen import process_tree_cpu
from .signin import PASSWORD, REDIRECT
from .signin import sign_in as one_sign_in


def sign_in(base_url: str, client_id: str) -> None:
    """One whole sign-in of user "bench" in a new browser; raises when a step goes wrong."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        one_sign_in(browser, client_id)


def load(base_url: str, client_id: str, browsers: int, seconds: float) -> dict[str, Any]:
    """`browsers` threads signing in for `seconds`: how many, how long each took, failures."""
    took: list[float] = []
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def browse() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                sign_in(base_url, client_id)
            except Exception as exc:  # noqa: BLE001 (counted and shown, not hidden)
                failures.append(repr(exc)[:200])
                continue
            took.append(time.perf_counter() - started)

    threads = [threading.Thread(target=browse) for _ in range(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"took": took, "failures": failures}


def argon2_cpu_ms(stored_hash: str, times: int = 20) -> float:
    """The median CPU time of a raw verification of `stored_hash` (p=1: on this thread)."""
    hasher, cpu = PasswordHasher(), []
    for _ in range(times):
        started = time.thread_time()
        hasher.verify(stored_hash, PASSWORD)
        cpu.append(time.thread_time() - started)
    return statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--browsers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp()) / "bench.db"
    with authserver(f"sqlite:///{database}", workers=2) as server:
        client = server.cli("client", "create", "--name", "bench-signin", "--grant-type",
                            "authorization_code", "--redirect-uri", REDIRECT,
                            "--auth-method", "none", "--scope", "openid profile")
        server.cli("user", "create", "--username", "bench", "--password-stdin",
                   stdin=PASSWORD + "\n")
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            stored_hash = connection.scalar(
                text("SELECT password_hash FROM users WHERE username = 'bench'"))
        engine.dispose()
        sign_in(server.url, client["client_id"])  # warm-up: every worker's first requests
        rounds = []
        for _ in range(args.rounds):
            argon2 = argon2_cpu_ms(stored_hash)
            cpu, started = process_tree_cpu(server.process.pid), time.perf_counter()
            done = load(server.url, client["client_id"], args.browsers, args.seconds)
            cpu, elapsed = process_tree_cpu(server.process.pid) - cpu, time.perf_counter() - started
            count = len(done["took"])
            rounds.append({
                "sign_ins": count, "failures": len(done["failures"]),
                "first_failure": done["failures"][0] if done["failures"] else None,
                "sign_ins_per_second": round(count / elapsed, 2),
                "server_cpu_ms_per_sign_in": round(cpu / count * 1000, 2) if count else None,
                "server_cores_busy": round(cpu / elapsed, 2),
                "p50_ms": round(statistics.median(done["took"]) * 1000, 1) if count else None,
                "argon2id_verify_cpu_ms": round(argon2, 2),
                "server_cpu_per_sign_in_vs_argon2id":
                    round(cpu / count * 1000 / argon2, 3) if count else None,
            })
    print(json.dumps({"browsers": args.browsers, "seconds": args.seconds,
                      "argon2_parameters": stored_hash.split("$")[3], "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
