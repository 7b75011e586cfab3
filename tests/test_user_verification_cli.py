"""`user create --email-verified`, `user verify-email` (a real SMTP server), and `db prune`
deleting expired mailed links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from authserver.cli import main
from authserver.models import RESET_PASSWORD
from authserver.store.housekeeping import prune
from authserver.store.users import find_user

from .helpers import PASSWORD, make_user
from .mail_server import silent_smtp_server, smtp_server


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AUTHSERVER_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("AUTHSERVER_ISSUER", "http://id.example.test")
    monkeypatch.setenv("AUTHSERVER_ALLOW_INSECURE_ISSUER", "1")
    return CliRunner()


def _show(runner: CliRunner, username: str) -> dict:
    result = runner.invoke(main, ["user", "show", username, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_user_create_leaves_the_email_unverified_unless_told(runner: CliRunner) -> None:
    for username, extra in (("ada", []), ("bob", ["--email-verified"])):
        result = runner.invoke(main, ["user", "create", "--username", username, "--email",
                                      f"{username}@example.com", *extra, "--password-stdin"],
                               input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    assert _show(runner, "ada")["email_verified"] is False
    assert _show(runner, "bob")["email_verified"] is True
    lone = runner.invoke(main, ["user", "create", "--username", "cy", "--email-verified",
                                "--password-stdin"], input=PASSWORD + "\n")
    assert lone.exit_code == 2 and "--email" in lone.output


def test_verify_email_mails_a_link_that_verifies(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    runner.invoke(main, ["user", "create", "--username", "ada", "--email", "ada@example.com",
                         "--password-stdin"], input=PASSWORD + "\n")
    unset = runner.invoke(main, ["user", "verify-email", "ada"])
    assert unset.exit_code == 2 and "AUTHSERVER_SMTP_URL" in unset.output
    with smtp_server() as (url, inbox):
        monkeypatch.setenv("AUTHSERVER_SMTP_URL", url)
        result = runner.invoke(main, ["user", "verify-email", "ada"])
        assert result.exit_code == 0, result.output
        link = inbox.last_link("ada@example.com")
    assert link.startswith("http://id.example.test/account/verify?token=")
    from authserver import create_app
    from authserver.config import Settings
    from authserver.db import migrate
    from authserver.keystore import KeyStore

    settings = Settings.from_env()
    migrate(settings)
    KeyStore.from_settings(settings).ensure()
    app = create_app(settings)
    opened = app.test_client().get(link.removeprefix("http://id.example.test"))
    assert opened.status_code == 200
    assert _show(runner, "ada")["email_verified"] is True
    app.extensions["authserver.db"].dispose()
    unknown = runner.invoke(main, ["user", "verify-email", "nobody"])
    assert unknown.exit_code == 2 and "nobody" in unknown.output


def test_verify_email_says_when_the_smtp_server_does_not_answer(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    runner.invoke(main, ["user", "create", "--username", "ada", "--email", "ada@example.com",
                         "--password-stdin"], input=PASSWORD + "\n")
    with silent_smtp_server() as url:
        monkeypatch.setenv("AUTHSERVER_SMTP_URL", url)
        monkeypatch.setenv("AUTHSERVER_SMTP_TIMEOUT", "1")
        result = runner.invoke(main, ["user", "verify-email", "ada"])
    assert result.exit_code == 1 and "could not be handed" in result.output


def test_db_prune_deletes_expired_links(app: Flask) -> None:
    make_user(app, email="alice@example.com")
    store = app.extensions["authserver.store"]
    with app.app_context():
        alice = find_user(store.session(), "alice")
        store.account_links.issue(alice, RESET_PASSWORD, "alice@example.com", 60)
        store.commit()
        store.close()
    database = app.extensions["authserver.db"]
    assert prune(database.session, now=store.now()).account_links == 0
    assert prune(database.session, now=store.now() + 61).account_links == 1
