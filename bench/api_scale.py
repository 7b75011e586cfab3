"""client_credentials with one registered API and with 50, measured in one run in process
(Flask's test client, SQLite): the ratio shows whether the API registry stays off the token
path (it is cached per worker and revalidated by the version the client cache reads anyway).

    python -m bench.api_scale [--requests 2000]
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

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.operations.apis import create_api
from authserver.store.apis import load_registry, sample_api
from authserver.store.clients import register_client


def measure(apis: int, requests: int, keys: Path) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{workdir / 'bench.db'}", keys_dir=str(keys),
                        instance_dir=str(workdir)).with_defaults()
    migrate(settings)
    app = create_app(settings)
    with app.extensions["authserver.db"].session() as session:
        for n in range(apis):
            create_api(session, load_registry(session, sample_api(settings.api_audience)),
                       audience=f"https://api{n}.example.com", name=f"API {n}",
                       scopes=[f"api{n}:read", f"api{n}:write"], access_token_ttl=None)
        registered = register_client(
            session, name="bench", grant_types=["client_credentials"], scope="api0:read",
            known_scopes=load_registry(session, sample_api(settings.api_audience)).known_scopes)
        client_id, secret = registered.client.client_id, registered.client_secret
    auth = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
    client = app.test_client()
    latencies = []
    for n in range(requests + 50):
        start = time.perf_counter()
        answer = client.post("/oauth/token", headers=auth, data={
            "grant_type": "client_credentials", "scope": "api0:read"})
        if n >= 50:  # warm-up excluded
            latencies.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"apis": apis, "requests": requests,
            "median_ms": round(statistics.median(latencies) * 1000, 3),
            "per_second": round(len(latencies) / sum(latencies), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "keys"
    KeyStore(keys).ensure()
    one = measure(1, args.requests, keys)
    fifty = measure(50, args.requests, keys)
    again = measure(1, args.requests, keys)  # the noise of the machine, in the same run
    print(json.dumps({"one_api": one, "fifty_apis": fifty, "one_api_again": again,
                      "fifty_vs_one": round(fifty["per_second"] / one["per_second"], 3),
                      "one_vs_one_again": round(again["per_second"] / one["per_second"], 3)},
                     indent=2))


if __name__ == "__main__":
    main()
