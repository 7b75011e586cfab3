"""Helpers of the administration API's tests: an admin client and its token, problem checks."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from authserver.operations import clients as operations
from authserver.store.clients import Metadata

from .helpers import basic

ISSUER = "http://authserver.test"


def admin_client(app: Flask, scope: str = "admin:read admin:write",
                 **metadata: Any) -> tuple[str, str]:
    """A client_credentials client for the administration API, made as an operator would."""
    with app.extensions["authserver.db"].session() as session:
        made = operations.create_client(session, app.extensions["authserver.settings"], Metadata(
            name="automation", grant_types=["client_credentials"], scope=scope, **metadata))
    return made["client_id"], made.get("client_secret", "")


def admin_token(client: FlaskClient, creds: tuple[str, str], scope: str | None = None,
                headers: dict[str, str] | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    answer = client.post("/oauth/token", data=form, headers={**basic(*creds), **(headers or {})})
    assert answer.status_code == 200, answer.json
    return str(answer.json["access_token"])


def problem(answer: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document of `status` (naming `field` when given)."""
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True))
    assert answer.mimetype == "application/problem+json"
    body = answer.json
    assert body["status"] == status and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return dict(body)
