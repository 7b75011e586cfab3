"""Before and after in one run, in process: the same token and API requests against two code
trees (say, main as it was and this branch), each in a worker process of its own, taken in
turns round by round so the machine's drift falls on both alike. Each figure is the median of
the round medians, of wall time and of the request thread's CPU time (steadier on a busy
machine), beside the SQL statements one request runs.

    python -m bench.ab --tree before=/tmp/before --tree after=. [--requests 200] [--rounds 5]

A tree is a directory holding an `authserver` package; a worker runs with PYTHONPATH set to
it (and this checkout after it, for bench/ and tests/). Cases (Flask's test client):
cc_pg, refresh_pg (PostgreSQL, database `test`), cc_sqlite, refresh_sqlite, cc_dpop (the
client_credentials request with a fresh DPoP proof, signed beforehand: a DPoP-bound token, on
SQLite), me_bearer, me_dpop (a fresh DPoP proof each call, signed beforehand), me_dpop_redis
(the same with AUTHSERVER_RATELIMIT_STORAGE_URL at the local Redis, database 15), health (no
token at all), signin_sqlite and signin_pg (a whole sign-in: authorize, login, consent, code
exchange; with AUTHSERVER_TEST_FAST_HASHING=1 in the environment, argon2id at its cheapest,
what is measured is everything but the password hash).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .databases import database

CASES = ("cc_pg", "refresh_pg", "cc_sqlite", "refresh_sqlite", "cc_dpop", "me_bearer",
         "me_dpop", "me_dpop_redis", "health", "signin_sqlite", "signin_pg")
REDIS = "redis://127.0.0.1:6379/15"
PASSWORD = "bench-password-1"
ISSUER = "http://127.0.0.1:5000"


def _basic(client_id: str, secret: str | None) -> dict[str, str]:
    return {"Authorization": "Basic "
            + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _app(stack: ExitStack, kind: str, keys: Path, **extra: Any) -> Any:
    from authserver import create_app
    from authserver.config import Settings
    from authserver.db import migrate
    url = stack.enter_context(database(kind))
    settings = Settings(database_url=url, keys_dir=str(keys), instance_dir=tempfile.mkdtemp(),
                        issuer=ISSUER, access_token_ttl=3600, **extra).with_defaults()
    migrate(settings)
    app = create_app(settings)
    stack.callback(app.extensions["authserver.db"].dispose)
    return app


def _clients(app: Any) -> tuple[dict[str, str], dict[str, str]]:
    from authserver.store.clients import register_client
    from authserver.store.users import create_user
    with app.extensions["authserver.db"].session() as session:
        machine = register_client(session, name="m", grant_types=["client_credentials"],
                                  scope="profile notes:read")
        first_party = register_client(session, name="app",
                                      grant_types=["password", "refresh_token"],
                                      scope="openid profile email notes:read")
        create_user(session, username="bench", password=PASSWORD)
        return (_basic(machine.client.client_id, machine.client_secret),
                _basic(first_party.client.client_id, first_party.client_secret))


def _checked(answer: Any) -> Any:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer


def build(stack: ExitStack, keys: Path) -> tuple[dict[str, Callable[[], Any]], dict[str, Any]]:
    """Every case's one request, and the app each runs in (for counting statements)."""
    runs: dict[str, Callable[[], Any]] = {}
    apps: dict[str, Any] = {}
    for kind, suffix in (("postgresql", "pg"), ("sqlite", "sqlite")):
        app = _app(stack, kind, keys)
        machine, first_party = _clients(app)
        client = app.test_client()

        def cc(client: Any = client, machine: dict[str, str] = machine) -> Any:
            return _checked(client.post("/oauth/token", headers=machine, data={
                "grant_type": "client_credentials", "scope": "notes:read"}))

        token = [client.post("/oauth/token", headers=first_party, data={
            "grant_type": "password", "username": "bench", "password": PASSWORD,
            "scope": "openid notes:read"}).json["refresh_token"]]

        def refresh(client: Any = client, auth: dict[str, str] = first_party,
                    token: list[str] = token) -> Any:
            answer = _checked(client.post("/oauth/token", headers=auth, data={
                "grant_type": "refresh_token", "refresh_token": token[0]}))
            token[0] = answer.json["refresh_token"]
            return answer

        runs[f"cc_{suffix}"], runs[f"refresh_{suffix}"] = cc, refresh
        runs[f"signin_{suffix}"] = _sign_in(app)
        apps[f"cc_{suffix}"] = apps[f"refresh_{suffix}"] = apps[f"signin_{suffix}"] = app
        if kind == "sqlite":
            runs.update(_api_cases(app, client, machine))
            for name in ("cc_dpop", "me_bearer", "me_dpop", "health"):
                apps[name] = app
    # The same DPoP call with the replay cache in Redis (a tree without that uses its database).
    app = _app(stack, "sqlite", keys, ratelimit_storage_url=REDIS)
    machine, _ = _clients(app)
    runs["me_dpop_redis"] = _api_cases(app, app.test_client(), machine)["me_dpop"]
    apps["me_dpop_redis"] = app
    return runs, apps


def _sign_in(app: Any) -> Callable[[], Any]:
    """A whole sign-in in a new browser: the authorization request, the login form, the
    consent form (prompt=consent), the code exchange; the forms followed as bench/signin.py
    does."""
    from authserver.store.clients import register_client
    from bench.signin import REDIRECT, sign_in
    with app.extensions["authserver.db"].session() as session:
        client_id = register_client(session, name="signin", grant_types=["authorization_code"],
                                    redirect_uris=[REDIRECT], auth_method="none",
                                    scope="openid profile").client.client_id
    return lambda: sign_in(app.test_client(), client_id, PASSWORD)


def _api_cases(app: Any, client: Any, machine: dict[str, str]) -> dict[str, Callable[[], Any]]:
    from tests.dpop_client import DPoPKey
    issuer = ISSUER
    data = {"grant_type": "client_credentials", "scope": "profile"}
    bearer = client.post("/oauth/token", headers=machine, data=data).json["access_token"]
    key = DPoPKey()
    bound = client.post("/oauth/token", data=data, headers={
        **machine, "DPoP": key.proof("POST", f"{issuer}/oauth/token")}).json["access_token"]
    proofs = iter(lambda: key.proof("GET", f"{issuer}/api/me", access_token=bound), None)
    pending: list[str] = []

    def me_dpop() -> Any:
        proof = pending.pop() if pending else next(proofs)
        return _checked(client.get("/api/me", headers={"Authorization": f"DPoP {bound}",
                                                       "DPoP": proof}))

    def prepare(n: int) -> None:
        pending.extend(next(proofs) for _ in range(n))

    me_dpop.prepare = prepare  # type: ignore[attr-defined]
    token_proofs = iter(lambda: key.proof("POST", f"{issuer}/oauth/token"), None)
    pending_token: list[str] = []

    def cc_dpop() -> Any:
        proof = pending_token.pop() if pending_token else next(token_proofs)
        answer = _checked(client.post("/oauth/token", data=data,
                                      headers={**machine, "DPoP": proof}))
        assert answer.json["token_type"] == "DPoP"
        return answer

    def prepare_token(n: int) -> None:
        pending_token.extend(next(token_proofs) for _ in range(n))

    cc_dpop.prepare = prepare_token  # type: ignore[attr-defined]
    return {"me_bearer": lambda: _checked(client.get(
                "/api/me", headers={"Authorization": f"Bearer {bearer}"})),
            "me_dpop": me_dpop, "cc_dpop": cc_dpop,
            "health": lambda: _checked(client.get("/healthz"))}


def _count_statements(app: Any, run: Callable[[], Any]) -> int:
    from sqlalchemy import event
    seen: list[int] = []
    engine = app.extensions["authserver.db"].engine

    def record(*_args: Any) -> None:
        seen.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def worker(cases: list[str]) -> None:
    """Read `<case> <n>` lines; answer each with one JSON line of that many requests' medians."""
    from authserver.keystore import KeyStore
    keys = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(keys).ensure()
    with ExitStack() as stack:
        runs, apps = build(stack, keys)
        for name in cases:
            assert Path(sys.modules["authserver"].__file__ or "").is_relative_to(Path.cwd())
            for _ in range(20):  # warm-up
                runs[name]()
        statements = {name: _count_statements(apps[name], runs[name]) for name in cases}
        print(json.dumps({"ready": statements}), flush=True)
        for line in sys.stdin:
            name, count = line.split()
            run = runs[name]
            prepare = getattr(run, "prepare", None)
            if prepare is not None:
                prepare(int(count))
            wall, cpu = [], []
            for _ in range(int(count)):
                start, start_cpu = time.perf_counter(), time.thread_time()
                run()
                cpu.append(time.thread_time() - start_cpu)
                wall.append(time.perf_counter() - start)
            print(json.dumps({"wall": statistics.median(wall), "cpu": statistics.median(cpu)}),
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", required=True, help="name=directory")
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.case or list(CASES)
    if args.worker:
        worker(cases)
        return
    here = str(Path(__file__).resolve().parent.parent)
    workers: dict[str, subprocess.Popen[str]] = {}
    statements: dict[str, Any] = {}
    for spec in args.tree:
        name, directory = spec.split("=", 1)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(directory).resolve()), here])}
        command = [sys.executable, "-m", "bench.ab", "--worker", "--tree", spec,
                   *[f"--case={case}" for case in cases]]
        # Run from the tree itself: `python -m` puts the working directory first on the path.
        workers[name] = subprocess.Popen(command, env=env, cwd=directory, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
    for name, process in workers.items():
        assert process.stdout is not None
        statements[name] = json.loads(process.stdout.readline())["ready"]
    wall: dict[str, dict[str, list[float]]] = {n: {c: [] for c in cases} for n in workers}
    cpu: dict[str, dict[str, list[float]]] = {n: {c: [] for c in cases} for n in workers}
    for _ in range(args.rounds):
        for case in cases:
            for name, process in workers.items():  # the trees in turns, case by case
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"{case} {args.requests}\n")
                process.stdin.flush()
                figure = json.loads(process.stdout.readline())
                wall[name][case].append(figure["wall"])
                cpu[name][case].append(figure["cpu"])
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    result: dict[str, Any] = {"requests": args.requests, "rounds": args.rounds,
                              "load_average": os.getloadavg()}
    for name in workers:
        result[name] = {case: {"median_ms": round(statistics.median(wall[name][case]) * 1e3, 3),
                               "cpu_median_ms": round(statistics.median(cpu[name][case]) * 1e3, 3),
                               "statements": statements[name][case]} for case in cases}
    names = list(workers)
    if len(names) == 2:
        before, after = names
        result[f"{after} / {before}, time (<1 is faster)"] = {
            case: {m: round(result[after][case][m] / result[before][case][m], 3)
                   for m in ("median_ms", "cpu_median_ms")} for case in cases}
    for name in names:
        figures = result[name]
        pairs = {"refresh_pg rate / cc_pg rate": ("cc_pg", "refresh_pg"),
                 "me_dpop rate / me_bearer rate": ("me_bearer", "me_dpop"),
                 "me_dpop_redis rate / me_bearer rate": ("me_bearer", "me_dpop_redis"),
                 "me_bearer rate / health rate": ("health", "me_bearer")}
        result[f"{name} ratios"] = {
            label: {m: round(figures[fast][m] / figures[slow][m], 3)
                    for m in ("median_ms", "cpu_median_ms")}
            for label, (fast, slow) in pairs.items() if fast in figures and slow in figures}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
