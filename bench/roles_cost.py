"""What roles cost on the token path, measured in one run in process (Flask's test client, the
app's own database): client_credentials for a client holding 0, 5 and 50 roles, and refresh
for a user holding 0, 5 and 50 roles through 10 groups (with the `groups` scope, so the same
query also reads the groups); beside them, the same grants for an API without any roles (no
roles query at all: what a token costs without the feature). The cases are taken in turns,
request by request, for several rounds, so the machine's drift falls on all of them alike;
each figure is the median of the round medians, of wall time and of the request thread's CPU
time (steadier on a loaded machine; on PostgreSQL it leaves out the database's own work), and
the SQL statements one request runs.

    python -m bench.roles_cost [--requests 300] [--rounds 5] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.operations import groups, roles
from authserver.operations.apis import create_api
from authserver.store.apis import ApiRegistry, load_registry, sample_api
from authserver.store.clients import register_client
from authserver.store.users import create_user

from .databases import database

PASSWORD = "bench-password-1"
PLAIN = "https://plain.example.com"  # an API without roles
HELD = (0, 5, 50)


# The CLI's way of naming things (an API's audience and a role's name, a group's name), over
# the operations the CLI and the administration API call.
def grant_role(session: Session, registry: ApiRegistry, audience: str, name: str,
               **holder: str) -> str:
    return roles.grant(session, roles.role_named(session, registry, audience, name),
                       *roles.one_holder(**holder))




def add_member(session: Session, group: str, username: str) -> None:
    groups.add_member(session, groups.group_named(session, group), username)



def _basic(client_id: str, secret: str | None) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def populate(app: Flask, sample: str) -> dict[str, Any]:
    """50 roles of the sample API; users u0, u5, u50 each in 10 groups of their own, holding
    that many roles through them (role i granted to group i % 10); clients c0, c5, c50 holding
    that many directly; and an API without roles."""
    with app.extensions["authserver.db"].session() as session:
        registry = load_registry(session, sample_api(sample))
        create_api(session, registry, audience=PLAIN, name="Plain", scopes=["plain:read"],
                   access_token_ttl=None)
        registry = load_registry(session, sample_api(sample))
        for index in range(50):
            roles.create_role(session, registry, sample, f"role{index}")
        first_party = register_client(session, name="app", known_scopes=registry.known_scopes,
                                      grant_types=["password", "refresh_token"],
                                      scope="openid groups notes:read plain:read")
        made: dict[str, Any] = {"app": (first_party.client.client_id, first_party.client_secret)}
        for held in HELD:
            create_user(session, username=f"u{held}", password=PASSWORD)
            machine = register_client(session, name=f"c{held}", scope="notes:read plain:read",
                                      known_scopes=registry.known_scopes)
            made[f"c{held}"] = (machine.client.client_id, machine.client_secret)
            for group in range(10):
                groups.create_group(session, f"g{held}.{group}")
                add_member(session, f"g{held}.{group}", f"u{held}")
            for index in range(held):
                grant_role(session, registry, sample, f"role{index}",
                                      group=f"g{held}.{index % 10}")
                grant_role(session, registry, sample, f"role{index}",
                                      client=machine.client.client_id)
    return made


def cases(app: Flask, made: dict[str, Any]) -> dict[str, Callable[[], int]]:
    """One token request per call, per case; each returns the number of roles it carried."""
    client = app.test_client()
    app_auth = _basic(*made["app"])
    found: dict[str, Callable[[], int]] = {}

    def roles_in(answer: Any) -> int:
        assert answer.status_code == 200, answer.get_data(as_text=True)
        payload = answer.json["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return len(claims.get("roles", []))

    def machine(auth: dict[str, str], scope: str) -> Callable[[], int]:
        return lambda: roles_in(client.post("/oauth/token", headers=auth, data={
            "grant_type": "client_credentials", "scope": scope}))

    def refreshing(username: str, scope: str) -> Callable[[], int]:
        token = [client.post("/oauth/token", headers=app_auth, data={
            "grant_type": "password", "username": username, "password": PASSWORD,
            "scope": scope}).json["refresh_token"]]

        def run() -> int:
            answer = client.post("/oauth/token", headers=app_auth, data={
                "grant_type": "refresh_token", "refresh_token": token[0]})
            token[0] = answer.json["refresh_token"]
            return roles_in(answer)
        return run

    found["client_credentials, API without roles"] = machine(_basic(*made["c50"]), "plain:read")
    for held in HELD:
        found[f"client_credentials, {held} roles"] = machine(_basic(*made[f"c{held}"]), "notes:read")
    found["refresh, API without roles"] = refreshing("u50", "openid plain:read")
    for held in HELD:
        found[f"refresh, {held} roles via 10 groups"] = refreshing(f"u{held}",
                                                                   "openid groups notes:read")
    return found


def _statements(app: Flask, run: Callable[[], int]) -> int:
    """The SQL statements one request runs (through the app's pool)."""
    seen: list[str] = []
    engine = app.extensions["authserver.db"].engine

    def record(*_args: Any) -> None:
        seen.append("")

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def measure(kind: str, requests: int, rounds: int, keys: Path) -> dict[str, Any]:
    with database(kind) as url:
        settings = Settings(database_url=url, keys_dir=str(keys),
                            instance_dir=tempfile.mkdtemp()).with_defaults()
        migrate(settings)
        app = create_app(settings)
        try:
            runs = cases(app, populate(app, settings.api_audience))
            carried = {name: run() for name, run in runs.items()}  # warm-up, and a check
            statements = {name: _statements(app, run) for name, run in runs.items()}
            wall: dict[str, list[float]] = {name: [] for name in runs}
            cpu: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(rounds):
                latencies: dict[str, list[float]] = {name: [] for name in runs}
                cpu_times: dict[str, list[float]] = {name: [] for name in runs}
                for _ in range(requests):  # the cases in turns, request by request
                    for name, run in runs.items():
                        start, start_cpu = time.perf_counter(), time.thread_time()
                        run()
                        cpu_times[name].append(time.thread_time() - start_cpu)
                        latencies[name].append(time.perf_counter() - start)
                for name in runs:
                    wall[name].append(statistics.median(latencies[name]))
                    cpu[name].append(statistics.median(cpu_times[name]))
        finally:
            app.extensions["authserver.db"].dispose()
    figures = {name: {"median_ms": round(statistics.median(wall[name]) * 1000, 3),
                      "cpu_median_ms": round(statistics.median(cpu[name]) * 1000, 3),
                      "statements": statements[name], "roles_carried": carried[name]}
               for name in runs}
    ratios: dict[str, dict[str, float]] = {}
    for grant, zero in (("client_credentials", "client_credentials, 0 roles"),
                        ("refresh", "refresh, 0 roles via 10 groups")):
        for name, figure in figures.items():
            if name.startswith(grant) and name != zero:
                ratios[f"{name} / 0 roles"] = {
                    measure: round(figure[measure] / figures[zero][measure], 3)
                    for measure in ("median_ms", "cpu_median_ms")}
    return {"database": kind, "requests_per_case_per_round": requests, "rounds": rounds,
            "cases": figures, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(keys).ensure()
    print(json.dumps([measure(kind, args.requests, args.rounds, keys)
                      for kind in args.database or ["sqlite", "postgresql"]], indent=2))


if __name__ == "__main__":
    main()
