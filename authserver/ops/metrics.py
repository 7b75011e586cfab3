"""Prometheus metrics at /metrics: tokens by grant and outcome, validation failures by reason,
request latency per endpoint, and the age of the current signing key.

`authserver serve` sets PROMETHEUS_MULTIPROC_DIR to a fresh directory before
the workers fork, so every worker's counters are added up at scrape time (prometheus-client's
multiprocess mode); outside it, the process's own registry is used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from ..keystore import KeyStore
from ..policy import SUPPORTED_GRANT_TYPES

TOKENS = Counter("authserver_tokens_total", "Token endpoint answers by grant type and outcome",
                 ["grant_type", "outcome"])
VALIDATION_FAILURES = Counter("authserver_token_validation_failures_total",
                              "Access tokens refused by the resource protector", ["reason"])
LATENCY = Histogram("authserver_request_duration_seconds", "Request latency by endpoint",
                    ["endpoint", "method"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
KNOWN_GRANTS = frozenset(SUPPORTED_GRANT_TYPES)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The latency histogram's children by (endpoint, method), looked up once: labels() validates
# and locks on every call. Bounded: endpoints are the app's rules, methods the known ones.
_latency_children: dict[tuple[str, str], Any] = {}


def _latency(endpoint: str, method: str) -> Any:
    key = (endpoint, method if method in KNOWN_METHODS else "other")
    child = _latency_children.get(key)
    if child is None:
        child = _latency_children.setdefault(key, LATENCY.labels(*key))
    return child


def token_answer(grant_type: str | None, outcome: str) -> None:
    # Only known values become labels: a client must not be able to mint new time series.
    TOKENS.labels(grant_type if grant_type in KNOWN_GRANTS else "other", outcome).inc()


def validation_failed(reason: str) -> None:
    VALIDATION_FAILURES.labels(reason).inc()


class SigningKeyAge:
    """Computed at scrape time from the key store's loaded snapshot, in the scraping process
    (no disk read per scrape; a half-written store keeps its last good keys here too)."""

    def __init__(self, keystore: KeyStore) -> None:
        self.keystore = keystore

    def collect(self) -> Iterator[GaugeMetricFamily]:
        current = next((k for k in self.keystore.published_keys()
                        if k.state == "current" and k.alg == self.keystore.default_alg), None)
        gauge = GaugeMetricFamily("authserver_signing_key_age_seconds",
                                  "Seconds since the current signing key of the default "
                                  "algorithm started signing")
        if current is not None:
            gauge.add_metric([], time.time() - (current.activated_at or current.created_at))
        yield gauge


def install(app: Flask, keystore: KeyStore) -> None:
    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            # A client chooses the method: only known ones become labels.
            _latency(endpoint, request.method).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        registry: Any
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            for collector in (TOKENS, VALIDATION_FAILURES, LATENCY):
                registry.register(collector)
        registry.register(SigningKeyAge(keystore))
        response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response
