"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import context

bp = Blueprint("health", __name__)


def _no_store(response: Response, status: int = 200) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; nothing else is checked (a dead database must not restart it)."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to serve tokens: the database answers and the key store has a signing key."""
    checks: dict[str, str] = {}
    try:
        context.store().ping()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the message says which
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        context.keystore().signing_key()
        checks["keys"] = "ok"
    except Exception as exc:
        checks["keys"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    # Not a reason to take the server out of rotation (it counts per worker meanwhile, see
    # ops/ratelimit.py), but the operator should see it.
    checks["counters"] = ("ok" if context.throttle().shared_store_answers()
                          else "unavailable: counting failed attempts per worker")
    return _no_store(jsonify(status="ready" if ready else "not ready", checks=checks),
                     200 if ready else 503)
