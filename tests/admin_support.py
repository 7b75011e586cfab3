"""Helpers of the administration API's tests: an admin client and its token, problem checks,
and the fixtures every such module takes (`auth`, `audited`, `cli`). A module imports the
fixtures it uses by name (`# noqa: F401`; the test parameters then shadow them: F811)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver import events
from authserver.config import Settings
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


Audited = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> dict[str, str]:
    """The headers of an admin:read admin:write token."""
    return {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}


@pytest.fixture
def audited() -> Iterator[Audited]:
    """The administration audit lines (`admin.*`) the test's requests and commands wrote."""
    seen: Audited = []

    def receive(name: str, outcome: str, fields: dict[str, Any]) -> None:
        if name.startswith("admin."):
            seen.append((name, fields))

    events.security_event.connect(receive)
    yield seen
    events.security_event.disconnect(receive)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on the app's database (the operator's shell beside the server)."""
    for name, value in {"DATABASE_URL": settings.database_url, "ISSUER": settings.issuer,
                        "ALLOW_INSECURE_ISSUER": "true", "KEYS_DIR": settings.keys_dir}.items():
        monkeypatch.setenv(f"AUTHSERVER_{name}", value)
    return CliRunner()
