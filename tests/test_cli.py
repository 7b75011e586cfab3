"""The operators' CLI: JSON output, stored hashes, clear errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from authserver.cli import main
from authserver.hashing import hash_secret


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
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
    assert missing.exit_code == 1
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
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_short_password_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["user", "create", "--username", "erin", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least" in result.stderr


def test_set_password_and_delete_user(runner: CliRunner) -> None:
    run_json(runner, "user", "create", "--username", "frank", "--password-stdin", stdin="password1\n")
    changed = runner.invoke(main, ["user", "set-password", "frank", "--password-stdin"], input="password2\n")
    assert changed.exit_code == 0, changed.output
    deleted = runner.invoke(main, ["user", "delete", "frank"])
    assert deleted.exit_code == 0
    assert run_json(runner, "user", "list")["users"] == []
    missing = runner.invoke(main, ["user", "delete", "frank"])
    assert missing.exit_code == 1


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
