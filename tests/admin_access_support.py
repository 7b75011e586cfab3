"""Fixtures of the administration API's APIs, roles and groups tests: an admin token's
headers, a reader's, and the audit lines a test's requests wrote."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver import events

from .admin_support import admin_client, admin_token

Audited = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}


@pytest.fixture
def reader(app: Flask, client: FlaskClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(client, admin_client(app, 'admin:read'))}"}


@pytest.fixture
def audited() -> Iterator[Audited]:
    seen: Audited = []

    def receive(name: str, outcome: str, fields: dict[str, Any]) -> None:
        if name.startswith("admin."):
            seen.append((name, fields))

    events.security_event.connect(receive)
    yield seen
    events.security_event.disconnect(receive)


def walk(client: FlaskClient, path: str, auth: dict[str, str], meanwhile: Any,
         limit: int = 2) -> list[dict[str, Any]]:
    """Every item of a collection, page by page, calling `meanwhile()` between pages."""
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.get(f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""),
                            headers=auth)
        assert answer.status_code == 200, answer.json
        assert len(answer.json["items"]) <= limit
        seen += answer.json["items"]
        meanwhile()
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return seen
