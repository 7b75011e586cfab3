# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
"""Fixtures of the administration API's APIs, roles and groups tests: a reader's token headers
and a walk through pages; the admin token's headers (`auth`) and the audit lines (`audited`)
are admin_support's, imported here for the modules that import them from this one."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_support import Audited, admin_client, admin_token, audited, auth  # noqa: F401


@pytest.fixture
def reader(app: Flask, client: FlaskClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(client, admin_client(app, 'admin:read'))}"}


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
