"""/admin/v1/users/{username}/mfa over HTTP on both databases: a user's second factors listed
as `user mfa list --json` lists them and reset as `user mfa reset` does (a lost phone), with
the effect on sign-in, scopes, unknown users, and the audit line naming the calling client."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

import json
import time
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main
from authserver.config import Settings
from authserver.operations import mfa
from authserver.operations.users import find

from .admin_support import admin_client, admin_token, audited, auth, problem  # noqa: F401
from .helpers import PASSWORD, make_client, make_user, password_grant


def with_authenticator(app: Flask, username: str) -> None:
    """The user sets up an authenticator app, as the account page does (its first code)."""
    with app.extensions["authserver.db"].session() as session:
        user = find(session, username)
        set_up = mfa.begin_totp(session, user, issuer_host="authserver.test", passphrase=None)
        mfa.confirm_totp(session, user, pyotp.TOTP(set_up.secret).now(), passphrase=None,
                         now=int(time.time()))


def test_factors_are_listed_and_reset(app: Flask, client: FlaskClient, auth: dict[str, str],
                                      settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                      audited: list[tuple[str, dict[str, Any]]]) -> None:
    make_user(app, "ada")
    creds = make_client(app, grant_types=["password"], scope="openid")
    none = client.get("/admin/v1/users/ada/mfa", headers=auth)
    assert none.status_code == 200
    assert none.json["totp"] is None and none.json["recovery_codes_left"] == 0
    with_authenticator(app, "ada")
    listed = client.get("/admin/v1/users/ada/mfa", headers=auth).json
    assert listed["totp"] is not None and listed["recovery_codes_left"] == 10
    assert listed["passkeys"] == []
    # The CLI lists the same.
    for name, value in {"DATABASE_URL": settings.database_url, "ISSUER": settings.issuer,
                        "ALLOW_INSECURE_ISSUER": "true", "KEYS_DIR": settings.keys_dir}.items():
        monkeypatch.setenv(f"AUTHSERVER_{name}", value)
    by_cli = CliRunner().invoke(main, ["user", "mfa", "list", "ada", "--json"])
    assert by_cli.exit_code == 0, by_cli.output
    assert json.loads(by_cli.stdout) == listed
    # A password alone does not sign in a user with a second factor; after the reset it does.
    assert password_grant(client, creds, username="ada", password=PASSWORD).status_code != 200

    reset = client.delete("/admin/v1/users/ada/mfa", headers=auth)
    assert reset.status_code == 200, reset.json
    assert reset.json == {"username": "ada", "removed": listed}
    after = client.get("/admin/v1/users/ada/mfa", headers=auth).json
    assert after["totp"] is None and after["recovery_codes_left"] == 0
    assert password_grant(client, creds, username="ada", password=PASSWORD).status_code == 200
    [line] = [f for name, f in audited if name == "admin.user_mfa_reset"]
    assert line["actor"].startswith("client:") and line["via"] == "api"
    assert (line["username"], line["totp"], line["recovery_codes"]) == ("ada", True, 10)


def test_scopes_and_unknown_users(app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    make_user(app, "ada")
    reader = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:read'))}"}
    writer = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:write'))}"}
    assert client.get("/admin/v1/users/ada/mfa", headers=reader).status_code == 200
    assert client.delete("/admin/v1/users/ada/mfa", headers=reader).status_code == 403
    assert client.get("/admin/v1/users/ada/mfa", headers=writer).status_code == 403
    assert client.get("/admin/v1/users/ada/mfa").status_code == 401
    for name in ("nope", "%00", "..%2f..", "%ED%A0%80"):
        problem(client.get(f"/admin/v1/users/{name}/mfa", headers=auth), 404)
        problem(client.delete(f"/admin/v1/users/{name}/mfa", headers=auth), 404)
