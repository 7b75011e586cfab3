"""One code path for APIs, roles and groups: what the CLI makes the administration API sees and
the reverse, and the CLI's refusals give the API the same verdict in the same words (the same
operations refuse them): exit 2 there, a 400, 404 or 409 problem naming the field here."""

# ruff: noqa: F811  (the fixtures imported from admin_access_support are parameters here)
from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main
from authserver.config import Settings

from .admin_access_support import auth  # noqa: F401
from .admin_support import problem

ORDERS = "https://orders.example.com"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on the app's database (the operator's shell beside the server)."""
    for name, value in {"DATABASE_URL": settings.database_url, "ISSUER": settings.issuer,
                        "ALLOW_INSECURE_ISSUER": "true", "KEYS_DIR": settings.keys_dir}.items():
        monkeypatch.setenv(f"AUTHSERVER_{name}", value)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def refused(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(main, list(args))
    assert result.exit_code == 2, result.output
    return str(result.output)


def test_apis_made_by_one_are_seen_by_the_other(cli: CliRunner, client: FlaskClient,
                                                 auth: dict[str, str]) -> None:
    by_cli = run(cli, "api", "create", "--audience", ORDERS, "--name", "Orders",
                 "--scope", "orders:read=Read orders", "--json")
    assert client.get(f"/admin/v1/apis/{by_cli['id']}", headers=auth).json == by_cli
    by_api = client.post("/admin/v1/apis", headers=auth, json={
        "audience": "https://stock.example.com", "name": "Stock",
        "scopes": [{"name": "stock:read"}], "access_token_ttl": 90}).json
    assert run(cli, "api", "show", "https://stock.example.com", "--json") == by_api
    listed = run(cli, "api", "list", "--json")["apis"]
    assert listed == client.get("/admin/v1/apis", headers=auth).json["items"]
    run(cli, "api", "update", "https://stock.example.com", "--name", "Stock v2")
    assert client.get(f"/admin/v1/apis/{by_api['id']}", headers=auth).json["name"] == "Stock v2"
    assert client.delete(f"/admin/v1/apis/{by_cli['id']}", headers=auth).status_code == 204
    assert "no API with audience" in refused(cli, "api", "show", ORDERS)
    run(cli, "api", "delete", "https://stock.example.com")
    problem(client.get(f"/admin/v1/apis/{by_api['id']}", headers=auth), 404, "id")


# (the CLI's options, the API's body, its status and field): the same refusal.
API_REFUSED = [
    (["--audience", "http://orders.example.com"], {"audience": "http://orders.example.com"},
     400, "audience"),
    (["--audience", ORDERS + "#x"], {"audience": ORDERS + "#x"}, 400, "audience"),
    (["--scope", "notes:read"], {"scopes": [{"name": "notes:read"}]}, 409, "scopes"),
    (["--scope", "openid"], {"scopes": [{"name": "openid"}]}, 400, "scopes"),
    (["--scope", "a\"b"], {"scopes": [{"name": "a\"b"}]}, 400, "scopes"),
    (["--access-token-ttl", "0"], {"access_token_ttl": 0}, 400, "access_token_ttl"),
    (["--name", " "], {"name": " "}, 400, "name"),
    (["--signing-alg", "ES256"], {"signing_alg": "ES256"}, 400, "signing_alg"),
]


@pytest.mark.parametrize(("options", "body", "status", "field"), API_REFUSED)
def test_the_clis_api_refusals_are_the_apis(cli: CliRunner, client: FlaskClient,
                                             auth: dict[str, str], options: list[str],
                                             body: dict[str, Any], status: int,
                                             field: str) -> None:
    defaults = {"--audience": ORDERS, "--name": "Orders", "--scope": "orders:read"}
    args = [arg for option, value in defaults.items() if option not in options
            for arg in (option, value)]
    output = refused(cli, "api", "create", *args, *options)
    detail = problem(client.post("/admin/v1/apis", headers=auth, json={
        "audience": ORDERS, "name": "Orders", "scopes": [{"name": "orders:read"}], **body}),
        status, field)["detail"]
    assert f"Error: {detail}" in output
    assert client.get("/admin/v1/apis", headers=auth).json["items"][2:] == []


def test_duplicates_and_the_built_in_apis_alike(cli: CliRunner, client: FlaskClient,
                                                auth: dict[str, str], app: Flask) -> None:
    run(cli, "api", "create", "--audience", ORDERS, "--name", "Orders", "--scope", "o:r")
    detail = problem(client.post("/admin/v1/apis", headers=auth, json={
        "audience": ORDERS, "name": "Orders", "scopes": [{"name": "o:w"}]}), 409,
        "audience")["detail"]
    assert f"Error: {detail}" in refused(cli, "api", "create", "--audience", ORDERS, "--name",
                                         "x", "--scope", "o:w")
    sample = app.extensions["authserver.settings"].api_audience
    detail = problem(client.delete("/admin/v1/apis/sample", headers=auth), 409)["detail"]
    assert f"Error: {detail}" in refused(cli, "api", "delete", sample)
