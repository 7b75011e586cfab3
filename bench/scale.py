"""Does a big database slow the token path? Two PostgreSQL schemas in one process: "small" (a
few rows) and "big" (filled by INSERT ... SELECT from generate_series, valid-looking rows:
users with a real argon2id hash, clients whose secret is `secret<i>`, refresh token families
of two generations each, APIs with a scope each); the same requests against both in turns:

- client_credentials of one cached client (the usual case), and of a client drawn at random
  each request (of the 100,000: past the per-worker cache's 10,000, so mostly a lookup; of
  10, all cached, in the small schema, which has 10 rows of each kind and 10 APIs);
- refresh of a user's token (the claim finds it by hash among the millions);
- the password grant of a random user (a lookup among the million, then argon2id);
- a whole code-flow sign-in of a random user (bench/signin.py: the authorization request,
  login, consent, code exchange), beside a million authorization codes not pruned yet (each
  authorization request looks its nonce up among them).

Each figure is the median of the round medians (wall and this thread's CPU); the process's RSS
is sampled after every round.

    python -m bench.scale [--users 1000000] [--clients 100000] [--tokens 10000000]
                          [--apis 1000] [--codes 1000000] [--rounds 10] [--requests 100]
                          [--keep]

The schemas are dropped at the end; with --keep, their URLs are printed (for bench.rss)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.hashing import hash_password
from authserver.keystore import KeyStore
from authserver.store.clients import register_client
from authserver.store.users import create_user

from .databases import POSTGRES, schema_url
from .signin import REDIRECT, sign_in

PASSWORD = "bench-password-1"
NOW = int(time.time())

# The bulk rows, set-based: one statement a table.
FILL = {
    "users": """
INSERT INTO users (sub, username, email, email_verified, verify_before_sign_in, name,
                   password_hash, claims, created_at)
SELECT md5('sub' || i)::uuid::text, 'user' || i, 'user' || i || '@example.com', true, false,
       'User ' || i, :hash, '{{}}'::json, :now - i % 100000
FROM generate_series(1, {users}) AS i""",
    "clients": """
INSERT INTO clients (client_id, client_secret_hash, name, grant_types, redirect_uris,
                     post_logout_redirect_uris, allowed_origins, scope,
                     token_endpoint_auth_method, dpop_bound, require_par, require_mfa, created_at)
SELECT md5('client' || i), encode(sha256(('secret' || i)::bytea), 'hex'), 'Client ' || i,
       '["client_credentials", "password", "refresh_token"]'::json,
       ('["https://app' || i || '.example.com/cb"]')::json, '[]'::json, '[]'::json,
       'openid profile notes:read', 'client_secret_basic', false, false, false, :now
FROM generate_series(1, {clients}) AS i""",
    "apis": """
INSERT INTO apis (audience, name, access_token_ttl, signing_alg, created_at)
SELECT 'https://api' || i || '.example.com', 'API ' || i, NULL, NULL, :now
FROM generate_series(1, {apis}) AS i""",
    "api_scopes": """
INSERT INTO api_scopes (name, api_id, description)
SELECT 'api' || a.id || '\\:read', a.id, 'Read API ' || a.id FROM apis AS a""",
    "refresh_token_families": """
INSERT INTO refresh_token_families (id, client_id, user_id, scope, generation, auth_time,
                                    created_at, rotated_at, expires_at, sid, resources)
SELECT md5('family' || i)::uuid::text, md5('client' || (1 + i % {clients})),
       :first_user + i % {users}, 'openid profile notes:read', 1, :now - 3600, :now - 3600,
       :now - 60, :now + 86400 * 30, substr(md5('sid' || i), 1, 43), NULL
FROM generate_series(1, {families}) AS i""",
    "refresh_tokens": """
INSERT INTO refresh_tokens (token_hash, family_id, generation, client_id, scope, issued_at,
                            expires_at)
SELECT encode(sha256(('rt' || i)::bytea), 'hex'), md5('family' || (1 + i / 2))::uuid::text,
       i % 2, md5('client' || (1 + (1 + i / 2) % {clients})), 'openid profile notes:read',
       :now - 60 * (1 - i % 2), :now + 86400 * 30
FROM generate_series(0, {tokens} - 1) AS i""",
    "authorization_codes": """
INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce,
                                 nonce_hash, auth_time, created_at, expires_at)
SELECT encode(sha256(('code' || i)::bytea), 'hex'), md5('client' || (1 + i % {clients})),
       :first_user + i % {users}, 'https://app.example.com/cb', 'openid', 'nonce' || i,
       encode(sha256(('nonce' || i)::bytea), 'hex'), :now, :now, :now + 3600
FROM generate_series(1, {codes}) AS i""",
}


# Rows whose parent is missing (what the foreign keys would refuse), counted after the fill.
ORPHANS = [f"SELECT count(*) FROM {child} c WHERE NOT EXISTS (SELECT FROM {parent} p "
           f"WHERE p.id = c.{key})" for child, parent, key in (
               ("refresh_token_families", "users", "user_id"),
               ("refresh_tokens", "refresh_token_families", "family_id"),
               ("authorization_codes", "users", "user_id"),
               ("api_scopes", "apis", "api_id"))]


def _drop_secondary_indexes(conn: Any, schema: str) -> list[str]:
    """Drop the filled tables' unique constraints and other indexes but their primary keys;
    returns the statements that build them again."""
    tables = {"s": schema, "t": list(FILL)}
    uniques = conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = :s AND c.contype = 'u' AND c.conrelid::regclass::text = ANY(:t)"),
        tables).all()
    indexes = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = :s "
        "AND i.tablename = ANY(:t) AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
        "c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s)"), tables).all()
    for table, name, _ in uniques:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return ([f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
             for table, name, definition in uniques] + [definition for _, definition in indexes])


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic "
            + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Case:
    """One schema's app and its requests."""

    def __init__(self, name: str, keys: Path, admin: Any) -> None:
        self.name = name
        self.schema = f"bench_scale_{name}_{uuid.uuid4().hex[:6]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.url = schema_url(self.schema)
        settings = Settings(database_url=self.url, keys_dir=str(keys),
                            instance_dir=tempfile.mkdtemp(), issuer="http://127.0.0.1:5000",
                            access_token_ttl=3600).with_defaults()
        migrate(settings)
        self.app = create_app(settings)
        with self.app.extensions["authserver.db"].session() as session:
            made = register_client(session, name="bench", scope="openid profile notes:read",
                                   grant_types=["client_credentials", "password",
                                                "refresh_token"])
            self.auth = _basic(made.client.client_id, made.client_secret)
            create_user(session, username="bench", password=PASSWORD)
            self.code_client = register_client(
                session, name="signin", grant_types=["authorization_code"],
                redirect_uris=[REDIRECT], auth_method="none",
                scope="openid profile").client.client_id
        self.client = self.app.test_client()
        self.refresh_token = self._password("bench", self.auth).json["refresh_token"]
        self.users = self.clients = 0

    def fill(self, sizes: dict[str, int]) -> dict[str, float]:
        """The bulk rows; seconds per table. The filled tables' secondary indexes and unique
        constraints are built after their rows, and foreign keys are not checked row by row
        (checked once at the end instead): ten million random inserts into a unique index
        larger than PostgreSQL's buffers were what made the fill take most of an hour."""
        engine = self.app.extensions["authserver.db"].engine
        took: dict[str, float] = {}
        with engine.connect() as conn:
            first_user = int(conn.scalar(text("SELECT max(id) FROM users")) or 0) + 1
        params = {"now": NOW, "first_user": first_user, "hash": hash_password(PASSWORD)}
        with engine.begin() as conn:
            restore = _drop_secondary_indexes(conn, self.schema)
        for table, statement in FILL.items():
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # no FK triggers
                conn.execute(text(statement.format(**sizes)), params)
            took[table] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for statement in restore:
                conn.execute(text(statement))
            for orphans in ORPHANS:
                assert conn.scalar(text(orphans)) == 0, orphans
            conn.execute(text("UPDATE clients_version SET version = version + 1"))
            for table in FILL:  # this schema's tables only (the database is shared)
                conn.execute(text(f"ANALYZE {table}"))
        took["indexes_checks_analyze"] = round(time.perf_counter() - start, 1)
        self.users, self.clients = sizes["users"], sizes["clients"]
        return took

    def _password(self, username: str, auth: dict[str, str]) -> Any:
        answer = self.client.post("/oauth/token", headers=auth, data={
            "grant_type": "password", "username": username, "password": PASSWORD,
            "scope": "openid notes:read"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer

    def runs(self) -> dict[str, Callable[[], Any]]:
        def cc(auth: dict[str, str] | None = None) -> Any:
            answer = self.client.post("/oauth/token", headers=auth or self.auth, data={
                "grant_type": "client_credentials", "scope": "notes:read"})
            assert answer.status_code == 200, answer.get_data(as_text=True)

        def cc_random() -> Any:
            if not self.clients:
                return cc()
            i = random.randint(1, self.clients)
            return cc(_basic(hashlib.md5(f"client{i}".encode()).hexdigest(), f"secret{i}"))

        def refresh() -> Any:
            answer = self.client.post("/oauth/token", headers=self.auth, data={
                "grant_type": "refresh_token", "refresh_token": self.refresh_token})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            self.refresh_token = answer.json["refresh_token"]

        def password() -> Any:
            name = f"user{random.randint(1, self.users)}" if self.users else "bench"
            return self._password(name, self.auth)

        def code_flow() -> Any:
            name = f"user{random.randint(1, self.users)}" if self.users else "bench"
            return sign_in(self.app.test_client(), self.code_client, PASSWORD, username=name)

        return {"client_credentials": cc, "client_credentials, a random client": cc_random,
                "refresh": refresh, "password grant, a random user": password,
                "code-flow sign-in, a random user": code_flow}

    def drop(self, admin: Any) -> None:
        self.app.extensions["authserver.db"].dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=10_000_000)
    parser.add_argument("--apis", type=int, default=1_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(keys).ensure()
    admin = create_engine(POSTGRES)
    made: list[Case] = []
    try:
        made.append(Case("small", keys, admin))
        made.append(Case("big", keys, admin))
        print(json.dumps(run(args, *made, admin), indent=2))
    finally:
        for case in made:
            if args.keep:
                print(f"kept: {case.url}", file=sys.stderr)
            else:
                case.drop(admin)
        admin.dispose()


def run(args: argparse.Namespace, small: Case, big: Case, admin: Any) -> dict[str, Any]:
    sizes = {"users": args.users, "clients": args.clients, "apis": args.apis,
             "tokens": args.tokens, "families": args.tokens // 2, "codes": args.codes}
    # The small schema gets a few rows of each kind, so every case has the same path in both.
    small.fill({"users": 10, "clients": 10, "apis": 10, "tokens": 20, "families": 10,
                "codes": 10})
    result: dict[str, Any] = {"sizes": sizes, "fill_seconds": big.fill(sizes)}
    with admin.connect() as conn:
        # Each filled table with its indexes and TOAST, and per row.
        result["big_table_bytes"] = {
            table: {"bytes": int(size), "bytes_per_row": round(int(size) / max(1, int(rows)))}
            for table, size, rows in conn.execute(text(
                "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s "
                "AND c.relkind = 'r' AND c.relname = ANY(:tables)"),
                {"s": big.schema, "tables": list(FILL)})}
    cases = {case.name: case.runs() for case in (small, big)}
    wall: dict[str, dict[str, list[float]]] = {n: {k: [] for k in cases[n]} for n in cases}
    cpu: dict[str, dict[str, list[float]]] = {n: {k: [] for k in cases[n]} for n in cases}
    rss: list[tuple[float, float]] = []
    start_run = time.monotonic()
    for _ in range(args.rounds):
        for kind in cases["small"]:
            argon2 = "password" in kind or "sign-in" in kind
            count = max(5, args.requests // 10) if argon2 else args.requests
            for name in cases:  # small and big in turns, kind by kind
                run = cases[name][kind]
                walls, cpus = [], []
                for _ in range(count):
                    began, began_cpu = time.perf_counter(), time.thread_time()
                    run()
                    cpus.append(time.thread_time() - began_cpu)
                    walls.append(time.perf_counter() - began)
                wall[name][kind].append(statistics.median(walls))
                cpu[name][kind].append(statistics.median(cpus))
        rss.append((round(time.monotonic() - start_run), round(_rss_mib(), 1)))
    for name in cases:
        result[name] = {kind: {"median_ms": round(statistics.median(wall[name][kind]) * 1e3, 3),
                               "cpu_median_ms": round(statistics.median(cpu[name][kind]) * 1e3, 3)}
                        for kind in cases[name]}
    result["big / small, time (1.10 = 10% slower)"] = {
        kind: {m: round(result["big"][kind][m] / result["small"][kind][m], 3)
               for m in ("median_ms", "cpu_median_ms")} for kind in cases["small"]}
    result["rss_mib_after_each_round (seconds, MiB)"] = rss
    result["load_average"] = os.getloadavg()
    return result


if __name__ == "__main__":
    main()
