"""One code path: what the CLI makes the administration API sees and the reverse, and the
CLI's validation cases give the API the same verdicts (the same operations refuse them)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main
from authserver.config import Settings

from .admin_support import admin_client, admin_token, problem


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on the app's database (the operator's shell beside the server)."""
    for name, value in {"DATABASE_URL": settings.database_url, "ISSUER": settings.issuer,
                        "ALLOW_INSECURE_ISSUER": "true", "KEYS_DIR": settings.keys_dir}.items():
        monkeypatch.setenv(f"AUTHSERVER_{name}", value)
    return CliRunner()


@pytest.fixture
def auth(app: Flask, client: FlaskClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(client, admin_client(app))}"}


def test_the_cli_makes_an_admin_client_and_each_sees_what_the_other_made(
        cli: CliRunner, client: FlaskClient) -> None:
    made = cli.invoke(main, ["client", "create", "--name", "automation", "--grant-type",
                             "client_credentials", "--scope", "admin:read admin:write", "--json"])
    assert made.exit_code == 0, made.output
    creds = json.loads(made.stdout)
    auth = {"Authorization": f"Bearer {admin_token(client, (creds['client_id'], creds['client_secret']))}"}
    listed = client.get("/admin/v1/clients", headers=auth).json["items"]
    assert creds["client_id"] in [c["client_id"] for c in listed]

    by_api = client.post("/admin/v1/clients", headers=auth, json={"client_name": "from api"}).json
    shown = cli.invoke(main, ["client", "show", by_api["client_id"], "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == client.get(
        f"/admin/v1/clients/{by_api['client_id']}", headers=auth).json

    assert cli.invoke(main, ["client", "delete", by_api["client_id"]]).exit_code == 0
    problem(client.get(f"/admin/v1/clients/{by_api['client_id']}", headers=auth), 404)


# (the CLI's options, the API's body): the same registration, refused for the same reason.
REFUSED = [
    (["--grant-type", "authorization_code"], {"grant_types": ["authorization_code"]}),
    (["--scope", "nope:x"], {"scope": "nope:x"}),
    (["--grant-type", "authorization_code", "--redirect-uri", "http://app.example/cb"],
     {"grant_types": ["authorization_code"], "redirect_uris": ["http://app.example/cb"]}),
    (["--auth-method", "private_key_jwt"], {"token_endpoint_auth_method": "private_key_jwt"}),
    (["--backchannel-logout-uri", "https://app.example/logout"],
     {"backchannel_logout_uri": "https://app.example/logout"}),
    (["--allowed-origin", "https://app.example/path"],
     {"allowed_origins": ["https://app.example/path"]}),
]


@pytest.mark.parametrize(("options", "body"), REFUSED)
def test_the_clis_refusals_are_the_apis(cli: CliRunner, client: FlaskClient,
                                         auth: dict[str, str], options: list[str],
                                         body: dict[str, object]) -> None:
    by_cli = cli.invoke(main, ["client", "create", "--name", "x", *options])
    assert by_cli.exit_code == 2
    detail = problem(client.post("/admin/v1/clients", headers=auth,
                                 json={"client_name": "x", **body}), 400)["detail"]
    assert f"Error: {detail}" in by_cli.output
