"""A DPoP-protected API call against a Bearer one, in process (Flask's test client, SQLite),
measured in one run: GET /api/me with the same Bearer token each time (its signature check is
remembered), and with a DPoP-bound token and a fresh proof each time (signed beforehand: the
client's cost is not counted), in turns. The proof is one more signature check (ES256) and one
INSERT for its jti.

    python -m bench.dpop_cost [--requests 1000]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path

from authserver import create_app
from authserver.config import Settings
from authserver.db import migrate
from authserver.keystore import KeyStore
from authserver.store.clients import register_client
from tests.dpop_client import DPoPKey


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp())
    KeyStore(workdir / "keys").ensure()
    settings = Settings(database_url=f"sqlite:///{workdir / 'bench.db'}",
                        keys_dir=str(workdir / "keys"), instance_dir=str(workdir),
                        issuer="http://127.0.0.1:5000", access_token_ttl=3600).with_defaults()
    migrate(settings)
    app = create_app(settings)
    with app.extensions["authserver.db"].session() as session:
        registered = register_client(session, name="bench", grant_types=["client_credentials"],
                                     scope="profile")
        auth = "Basic " + base64.b64encode(
            f"{registered.client.client_id}:{registered.client_secret}".encode()).decode()
    client = app.test_client()
    token_url, me_url = f"{settings.issuer}/oauth/token", f"{settings.issuer}/api/me"
    bearer = client.post("/oauth/token", headers={"Authorization": auth}, data={
        "grant_type": "client_credentials", "scope": "profile"}).json["access_token"]
    key = DPoPKey()
    bound = client.post("/oauth/token", headers={"Authorization": auth,
                                                 "DPoP": key.proof("POST", token_url)},
                        data={"grant_type": "client_credentials", "scope": "profile"}
                        ).json["access_token"]
    proofs = [key.proof("GET", me_url, access_token=bound) for _ in range(args.requests + 50)]
    times: dict[str, list[float]] = {"bearer": [], "dpop": []}
    for n in range(args.requests + 50):
        for name, headers in (("bearer", {"Authorization": f"Bearer {bearer}"}),
                              ("dpop", {"Authorization": f"DPoP {bound}", "DPoP": proofs[n]})):
            start = time.perf_counter()
            answer = client.get("/api/me", headers=headers)
            if n >= 50:  # warm-up excluded
                times[name].append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.get_data(as_text=True)
    result = {name: {"median_ms": round(statistics.median(t) * 1000, 3),
                     "per_second": round(len(t) / sum(t), 1)} for name, t in times.items()}
    result["dpop_vs_bearer"] = round(result["dpop"]["per_second"] /  # type: ignore[index]
                                     result["bearer"]["per_second"], 3)  # type: ignore[index]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
