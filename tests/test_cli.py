"""The operators' CLI: JSON output, stored hashes, clear errors and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from authserver.cli import main
from authserver.config import Settings
from authserver.db import Database
from authserver.hashing import hash_secret
from authserver.models import RefreshTokenFamily, User


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> CliRunner:
    # A copy of the session's migrated database (migrating takes 1-2 s; test_operator_cli.py
    # is where a command meets a database with no schema yet).
    shutil.copyfile(sqlite_template, tmp_path / "cli.db")
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    return CliRunner()


def run_json(runner: CliRunner, *args: str, stdin: str | None = None) -> dict:
    result = runner.invoke(main, [*args, "--json"], input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_client_create_prints_secret_once_and_stores_its_hash(
    runner: CliRunner, tmp_path: Path
) -> None:
    created = run_json(runner, "client", "create", "--name", "svc")
    assert created["grant_types"] == ["client_credentials"]
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert len(created["client_secret"]) >= 43  # 32 random bytes, base64url
    assert created["redirect_uris"] == []
    assert not created["client_id"].startswith("-")
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        stored = conn.execute(text("select client_secret_hash from clients")).scalar_one()
    assert stored == hash_secret(created["client_secret"])
    shown = run_json(runner, "client", "show", created["client_id"])
    assert "client_secret" not in shown
    assert shown["client_id"] == created["client_id"]


def test_public_client_has_no_secret(runner: CliRunner) -> None:
    created = run_json(
        runner, "client", "create", "--name", "spa", "--grant-type", "authorization_code",
        "--redirect-uri", "https://app.example.com/cb", "--auth-method", "none",
    )
    assert "client_secret" not in created
    assert created["redirect_uris"] == ["https://app.example.com/cb"]


def test_unknown_grant_type_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "create", "--name", "x", "--grant-type", "implicit"])
    assert result.exit_code == 2
    assert "implicit" in result.stderr


@pytest.mark.parametrize(
    "uri",
    ["not a uri", "http://evil.example.com/cb", "https://app.example.com/cb#frag", "javascript:alert(1)"],
)
def test_bad_redirect_uri_is_refused(runner: CliRunner, uri: str) -> None:
    result = runner.invoke(
        main, ["client", "create", "--name", "x", "--grant-type", "authorization_code",
               "--redirect-uri", uri],
    )
    assert result.exit_code == 2
    assert "redirect URI" in result.stderr


def test_code_grant_needs_a_redirect_uri(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "create", "--name", "x", "--grant-type", "authorization_code"])
    assert result.exit_code == 2
    assert "redirect" in result.stderr


def test_unknown_scope_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "create", "--name", "x", "--scope", "admin"])
    assert result.exit_code == 2
    assert "admin" in result.stderr


def test_rotate_secret_replaces_the_hash(runner: CliRunner) -> None:
    created = run_json(runner, "client", "create", "--name", "svc")
    rotated = run_json(runner, "client", "rotate-secret", created["client_id"])
    assert rotated["client_secret"] != created["client_secret"]


def test_client_list_and_delete(runner: CliRunner) -> None:
    created = run_json(runner, "client", "create", "--name", "svc")
    listed = run_json(runner, "client", "list")
    assert [c["client_id"] for c in listed["clients"]] == [created["client_id"]]
    result = runner.invoke(main, ["client", "delete", created["client_id"]])
    assert result.exit_code == 0
    assert run_json(runner, "client", "list")["clients"] == []
    missing = runner.invoke(main, ["client", "show", created["client_id"]])
    assert missing.exit_code == 2
    assert "no client" in missing.stderr


def test_user_create_reads_one_line_of_stdin(runner: CliRunner, tmp_path: Path) -> None:
    created = run_json(
        runner, "user", "create", "--username", "carol", "--email", "c@example.com",
        "--password-stdin", stdin="pass word 1\nignored\n",
    )
    assert created["username"] == "carol" and created["sub"]
    from authserver.hashing import password_matches

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        stored = conn.execute(text("select password_hash from users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert password_matches("pass word 1", stored)
    assert not password_matches("pass word 1\n", stored)


def test_duplicate_username_fails_clearly(runner: CliRunner) -> None:
    run_json(runner, "user", "create", "--username", "dave", "--password-stdin", stdin="password1\n")
    result = runner.invoke(
        main, ["user", "create", "--username", "dave", "--password-stdin"], input="password2\n"
    )
    assert result.exit_code == 2
    assert "already exists" in result.stderr


def test_short_password_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["user", "create", "--username", "erin", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 2
    assert "at least" in result.stderr


def test_set_password_and_delete_user(runner: CliRunner) -> None:
    run_json(runner, "user", "create", "--username", "frank", "--password-stdin", stdin="password1\n")
    changed = runner.invoke(main, ["user", "set-password", "frank", "--password-stdin"], input="password2\n")
    assert changed.exit_code == 0, changed.output
    deleted = runner.invoke(main, ["user", "delete", "frank"])
    assert deleted.exit_code == 0
    assert run_json(runner, "user", "list")["users"] == []
    missing = runner.invoke(main, ["user", "delete", "frank"])
    assert missing.exit_code == 2


def test_bad_configuration_is_a_usage_error(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSERVER_ACCESS_TOKEN_TTL", "soon")
    result = runner.invoke(main, ["client", "list"])
    assert result.exit_code == 2
    assert "AUTHSERVER_ACCESS_TOKEN_TTL" in result.stderr


def test_every_command_has_help(runner: CliRunner) -> None:
    for args in (["serve"], ["client", "create"], ["client", "list"], ["user", "create"],
                 ["user", "set-password"], ["keys", "rotate"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def _authserver(tmp_path: Path, *args: str, stdin: str | None = None,
                **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "AUTHSERVER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                   "AUTHSERVER_KEYS_DIR": str(tmp_path / "keys"),
                   "AUTHSERVER_INSTANCE_DIR": str(tmp_path / "instance"), **env}
    environment.pop("AUTHSERVER_AUDIT_LOG", None)
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "authserver", *args], input=stdin,
                          env=environment, capture_output=True, text=True, timeout=60)


def test_admin_changes_are_audited_to_a_file_not_onto_the_terminal(tmp_path: Path) -> None:
    created = _authserver(tmp_path, "client", "create", "--name", "svc")
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""  # nothing but the command's own output on the terminal
    trail = (tmp_path / "instance" / "audit.log").read_text().splitlines()
    entry = json.loads(trail[-1])
    assert entry["event"] == "admin.client_created"
    assert entry["client_id"] in created.stdout
    assert (tmp_path / "instance" / "audit.log").stat().st_mode & 0o077 == 0


def test_admin_changes_go_to_the_configured_audit_log(tmp_path: Path) -> None:
    log_file = tmp_path / "audit.jsonl"
    created = _authserver(tmp_path, "client", "create", "--name", "svc",
                          AUTHSERVER_AUDIT_LOG=str(log_file))
    assert created.returncode == 0 and created.stderr == ""
    assert json.loads(log_file.read_text().splitlines()[-1])["event"] == "admin.client_created"
    assert not (tmp_path / "instance" / "audit.log").exists()


def test_the_cli_makes_no_password_hash_it_does_not_need() -> None:
    # The dummy hash for unknown usernames is made on first use, not at import (0.13 s each).
    probe = ("import authserver.cli, authserver.app, authserver.hashing as h; "
             "print(h._dummy_password_hash.cache_info().currsize)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_set_password_revokes_the_users_refresh_tokens(tmp_path: Path, runner: CliRunner) -> None:
    runner.invoke(main, ["user", "create", "--username", "gina", "--password-stdin"],
                  input="password1\n")
    settings = Settings.from_env({"AUTHSERVER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                                  "AUTHSERVER_KEYS_DIR": str(tmp_path / "keys")})
    database = Database(settings)
    with database.session() as session:
        user = session.scalars(select(User)).one()
        for family in ("f1", "f2"):
            session.add(RefreshTokenFamily(id=family, client_id="c", user_id=user.id, scope="",
                                           auth_time=0, created_at=0, expires_at=2**40))
    changed = runner.invoke(main, ["user", "set-password", "gina", "--password-stdin"],
                            input="password2\n")
    assert changed.exit_code == 0, changed.stderr
    assert "2 refresh grant(s) revoked" in changed.stdout
    with database.session() as session:
        revoked = session.scalars(select(RefreshTokenFamily.revoked_at)).all()
    database.dispose()
    assert len(revoked) == 2 and all(when is not None for when in revoked)


def test_client_create_registers_post_logout_redirect_uris(runner: CliRunner) -> None:
    created = run_json(runner, "client", "create", "--name", "rp", "--grant-type",
                       "authorization_code", "--redirect-uri", "https://rp.example/cb",
                       "--post-logout-redirect-uri", "https://rp.example/bye")
    assert created["post_logout_redirect_uris"] == ["https://rp.example/bye"]
    assert created["redirect_uris"] == ["https://rp.example/cb"]
    refused = runner.invoke(main, ["client", "create", "--name", "rp",
                                   "--post-logout-redirect-uri", "http://evil.example/bye"])
    assert refused.exit_code == 2 and "plain http" in refused.stderr
