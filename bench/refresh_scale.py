"""Refresh-token latency with 1,000 and with 1,000,000 stored refresh tokens, on PostgreSQL,
measured in one run: the ratio shows whether lookups and claims stay index-bound.

    python -m bench.refresh_scale [--requests 300] [--large 1000000]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.store.clients import register_client
from authserver.store.users import create_user

from .databases import postgres_schema

PASSWORD = "bench-password-1"


def fill(url: str, rows: int, user_id: int, client_id: str) -> None:
    """`rows` refresh tokens in rows/10 families, written by PostgreSQL itself."""
    families = max(rows // 10, 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO refresh_token_families
                (id, client_id, user_id, scope, generation, auth_time, created_at, expires_at)
            SELECT md5('f' || g)::uuid::text, :client, :user, 'notes:read', 9, 0, 0, 4102444800
            FROM generate_series(1, :families) AS g"""),
            {"client": client_id, "user": user_id, "families": families})
        conn.execute(text("""
            INSERT INTO refresh_tokens
                (token_hash, family_id, generation, client_id, scope, issued_at, expires_at)
            SELECT md5('t' || g) || md5('u' || g), md5('f' || (g % :families + 1))::uuid::text,
                   g % 10, :client, 'notes:read', 0, 4102444800
            FROM generate_series(1, :rows) AS g"""),
            {"client": client_id, "families": families, "rows": rows})
        conn.execute(text("ANALYZE refresh_tokens; ANALYZE refresh_token_families"))
    engine.dispose()


def measure(stored: int, requests: int, keys: Path) -> dict[str, Any]:
    with postgres_schema() as url:
        settings = Settings(database_url=url, keys_dir=str(keys),
                            instance_dir=tempfile.mkdtemp()).with_defaults()
        migrate(settings)
        app = create_app(settings)
        with app.extensions["authserver.db"].session() as session:
            user = create_user(session, username="bench", password=PASSWORD)
            registered = register_client(session, name="bench",
                                         grant_types=["password", "refresh_token"])
            user_id, client_id = user.id, registered.client.client_id
            secret = registered.client_secret
        fill(url, stored, user_id, client_id)
        client = app.test_client()
        auth = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
        token = client.post("/oauth/token", headers=auth, data={
            "grant_type": "password", "username": "bench", "password": PASSWORD,
            "scope": "notes:read"}).json["refresh_token"]
        latencies = []
        for n in range(requests + 20):
            start = time.perf_counter()
            response = client.post("/oauth/token", headers=auth, data={
                "grant_type": "refresh_token", "refresh_token": token})
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.json
            token = response.json["refresh_token"]
            if n >= 20:  # warm-up excluded
                latencies.append(elapsed * 1000)
        engine = create_engine(url)
        with engine.connect() as conn:
            plan = "\n".join(row[0] for row in conn.execute(text(
                "EXPLAIN SELECT * FROM refresh_tokens WHERE token_hash = 'x'")))
        engine.dispose()
        app.extensions["authserver.db"].dispose()
        latencies.sort()
        return {"stored": stored, "median_ms": round(statistics.median(latencies), 3),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3), "plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(keys).ensure()
    small = measure(args.small, args.requests, keys)
    large = measure(args.large, args.requests, keys)
    print(json.dumps({"small": small, "large": large,
                      "ratio_large_to_small": round(large["median_ms"] / small["median_ms"], 3)},
                     indent=2))


if __name__ == "__main__":
    main()
