"""`client create --resource-server AUDIENCE` (INTERFACE.md "introspection for APIs"): that
client introspects every live access token for its API, whoever it was issued to, and nothing
else (other APIs' tokens, refresh tokens, expired tokens: `active: false`). In process, on
SQLite and PostgreSQL; the CLI through click's runner."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main
from authserver.config import Settings
from authserver.operations.apis import create_api, delete_api
from authserver.store.apis import load_registry, sample_api

from .helpers import advance_clock, basic, make_client, password_grant

ORDERS = "https://orders.example.com"
KNOWN = frozenset({"openid", "profile", "offline_access", "notes:read", "orders:read"})


@pytest.fixture
def orders(app: Flask) -> str:
    settings = app.extensions["authserver.settings"]
    with app.extensions["authserver.db"].session() as session:
        registry = load_registry(session, sample_api(settings.api_audience))
        create_api(session, registry, audience=ORDERS, name="Orders",
                   scopes=["orders:read=See your orders"], access_token_ttl=None)
    return ORDERS


def resource_server(app: Flask, audience: str) -> tuple[str, str]:
    return make_client(app, resource_server=audience,
                       known_audiences={audience, app.extensions["authserver.settings"]
                                        .api_audience})


def introspect(client: FlaskClient, creds: tuple[str, str], token: str) -> Any:
    answer = client.post("/oauth/introspect", data={"token": token}, headers=basic(*creds))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json


def token_for(client: FlaskClient, creds: tuple[str, str], **form: str) -> dict[str, Any]:
    answer = client.post("/oauth/token", headers=basic(*creds),
                         data={"grant_type": "client_credentials", **form})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.json)  # type: ignore[arg-type]


def test_a_resource_server_sees_every_live_token_for_its_api(
        app: Flask, client: FlaskClient, orders: str) -> None:
    rs = resource_server(app, orders)
    caller = make_client(app, scope="orders:read", known_scopes=KNOWN)
    token = token_for(client, caller, resource=orders)["access_token"]
    body = introspect(client, rs, token)
    assert body["active"] is True
    assert body["aud"] == orders
    assert body["client_id"] == caller[0]  # the caller's, not the resource server's
    assert body["scope"] == "orders:read"
    assert {"sub", "iss", "exp", "iat", "token_type"} <= set(body)
    advance_clock(app, 3600)
    assert introspect(client, rs, token) == {"active": False}


def test_a_resource_server_sees_nothing_else(
        app: Flask, client: FlaskClient, orders: str, user: str) -> None:
    rs = resource_server(app, orders)
    machine = make_client(app, scope="profile notes:read")
    other_api = token_for(client, machine)["access_token"]  # for the sample API
    assert introspect(client, rs, other_api) == {"active": False}
    app_client = make_client(app, grant_types=["password", "refresh_token"],
                             scope="openid orders:read offline_access", known_scopes=KNOWN)
    tokens = password_grant(client, app_client, scope="openid orders:read").json
    assert introspect(client, rs, tokens["access_token"])["active"] is True
    assert introspect(client, rs, tokens["refresh_token"]) == {"active": False}
    assert introspect(client, rs, "not-a-token") == {"active": False}
    # The owner of a token still sees its own, and nobody else sees it.
    assert introspect(client, app_client, tokens["access_token"])["active"] is True
    assert introspect(client, machine, tokens["access_token"]) == {"active": False}


def test_the_sample_api_can_have_a_resource_server(app: Flask, client: FlaskClient) -> None:
    settings: Settings = app.extensions["authserver.settings"]
    rs = resource_server(app, settings.api_audience)
    token = token_for(client, make_client(app, scope="notes:read"))["access_token"]
    assert introspect(client, rs, token)["aud"] == settings.api_audience


def test_a_deleted_api_leaves_its_resource_server_without_tokens(
        app: Flask, client: FlaskClient, orders: str) -> None:
    rs = resource_server(app, orders)
    settings = app.extensions["authserver.settings"]
    with app.extensions["authserver.db"].session() as session:
        delete_api(session, load_registry(session, sample_api(settings.api_audience)), orders)
    from authserver.store.clients import find_client

    with app.extensions["authserver.db"].session() as session:
        stored = find_client(session, rs[0])
        assert stored is not None and stored.resource_server is None


# -- the CLI ---------------------------------------------------------------------------------

@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", settings.keys_dir)
    monkeypatch.setenv("AUTHSERVER_AUDIT_LOG", f"{settings.instance_dir}/audit.log")
    return CliRunner()


def test_the_cli_makes_a_resource_server_that_needs_no_grant(
        app: Flask, client: FlaskClient, orders: str, runner: CliRunner) -> None:
    made = runner.invoke(main, ["client", "create", "--name", "orders api",
                                "--resource-server", orders, "--json"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["resource_server"] == orders
    assert created["grant_types"] == []
    caller = make_client(app, scope="orders:read", known_scopes=KNOWN)
    token = token_for(client, caller, resource=orders)["access_token"]
    rs = (created["client_id"], created["client_secret"])
    assert introspect(client, rs, token)["active"] is True
    # It gets no token of its own.
    own = client.post("/oauth/token", headers=basic(*rs), data={"grant_type": "client_credentials"})
    assert own.status_code == 400 and own.json["error"] == "unauthorized_client"  # type: ignore[index]


def test_an_unknown_audience_or_a_public_resource_server_exits_2(
        runner: CliRunner, orders: str) -> None:
    unknown = runner.invoke(main, ["client", "create", "--name", "x",
                                   "--resource-server", "https://nowhere.example.com"])
    assert unknown.exit_code == 2
    assert "https://nowhere.example.com" in unknown.stderr
    public = runner.invoke(main, ["client", "create", "--name", "x", "--resource-server", orders,
                                  "--auth-method", "none"])
    assert public.exit_code == 2
    assert "resource server" in public.stderr
    listed = runner.invoke(main, ["client", "list", "--json"])
    assert json.loads(listed.stdout)["clients"] == []
