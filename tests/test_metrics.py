"""Prometheus metrics: counters move as requests happen, summed over the server's workers."""

from __future__ import annotations

import re

import httpx
from flask.testing import FlaskClient

from .support import ServerProcess


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{([^}]*)\})? ([0-9.e+-]+)$", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
        if found == wanted:
            return float(match.group(3))
    return 0.0


def scrape(server: ServerProcess) -> str:
    response = server.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.text


def test_counters_move_across_workers(server: ServerProcess) -> None:
    app = server.cli_json("client", "create", "--name", "metrics", "--scope", "profile")
    before = scrape(server)
    issued_before = sample(before, "authserver_tokens_total",
                           grant_type="client_credentials", outcome="issued")
    bad_before = sample(before, "authserver_token_validation_failures_total", reason="bad_signature")
    missing_before = sample(before, "authserver_token_validation_failures_total", reason="missing")
    # New connections each time, so both workers take part.
    for _ in range(6):
        response = httpx.post(f"{server.base_url}/oauth/token", auth=(app["client_id"], app["client_secret"]),
                              data={"grant_type": "client_credentials"})
        assert response.status_code == 200
    token = response.json()["access_token"]
    forged = token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
    for _ in range(3):
        assert httpx.get(f"{server.base_url}/api/me",
                         headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        assert httpx.get(f"{server.base_url}/api/me").status_code == 401
    after = scrape(server)
    assert sample(after, "authserver_tokens_total", grant_type="client_credentials",
                  outcome="issued") == issued_before + 6
    assert sample(after, "authserver_token_validation_failures_total",
                  reason="bad_signature") == bad_before + 3
    assert sample(after, "authserver_token_validation_failures_total",
                  reason="missing") == missing_before + 3
    assert sample(after, "authserver_request_duration_seconds_count",
                  endpoint="/oauth/token", method="POST") >= 6
    age = sample(after, "authserver_signing_key_age_seconds")
    assert 0 <= age < 86_400


def test_metrics_in_a_single_process(client: FlaskClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "authserver_request_duration_seconds_count" in response.get_data(as_text=True)
    assert "authserver_signing_key_age_seconds" in response.get_data(as_text=True)


def test_a_client_cannot_mint_latency_series_with_made_up_methods(client: FlaskClient) -> None:
    """The method label comes from the request: only the known methods become labels."""
    client.open("/healthz", method="BREW")
    client.open("/healthz", method="GET")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'method="BREW"' not in text
    assert sample(text, "authserver_request_duration_seconds_count",  # a 405: no rule matched
                  endpoint="unmatched", method="other") >= 1
    assert sample(text, "authserver_request_duration_seconds_count",
                  endpoint="/healthz", method="GET") >= 1
