"""Liveness and readiness endpoints."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings


def test_healthz_answers_without_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_database_and_keys(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "keys": "ok", "counters": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings, tmp_path: Path) -> None:
    unreachable = settings.override(
        database_url="postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=1"
    )
    app = create_app(unreachable)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"].startswith("unavailable")
    assert response.json["checks"]["keys"] == "ok"
    app.extensions["authserver.db"].dispose()
