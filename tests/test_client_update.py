"""`authserver client update CLIENT_ID`: the options and checks of `client create`, only what
is given changes, a repeated option replaces its list, and bad input writes nothing (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from authserver.cli import main
from authserver.cli.client_options import METADATA_OPTIONS

SPA = "https://spa.example.com/callback"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AUTHSERVER_AUDIT_LOG", str(tmp_path / "audit.log"))
    return CliRunner()


def run_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def code_client(runner: CliRunner, *extra: str) -> dict:
    return run_json(runner, "client", "create", "--name", "spa", "--grant-type",
                    "authorization_code", "--redirect-uri", SPA, "--auth-method", "none", *extra)


def show(runner: CliRunner, client_id: str) -> dict:
    return run_json(runner, "client", "show", client_id)


def test_update_changes_only_what_is_given(runner: CliRunner) -> None:
    created = code_client(runner, "--scope", "openid profile")
    updated = run_json(runner, "client", "update", created["client_id"], "--name", "renamed",
                       "--scope", "openid email")
    assert updated["client_name"] == "renamed"
    assert updated["scope"] == "openid email"
    assert updated["redirect_uris"] == [SPA]
    assert updated["grant_types"] == ["authorization_code"]
    assert updated["token_endpoint_auth_method"] == "none"
    assert show(runner, created["client_id"]) == updated


def test_a_repeated_list_option_replaces_the_list_and_an_empty_value_empties_it(
        runner: CliRunner) -> None:
    created = code_client(runner, "--post-logout-redirect-uri", "https://spa.example.com/bye")
    client_id = created["client_id"]
    other = ["https://spa.example.com/a", "https://spa.example.com/b"]
    updated = run_json(runner, "client", "update", client_id,
                       "--redirect-uri", other[0], "--redirect-uri", other[1])
    assert updated["redirect_uris"] == other
    emptied = run_json(runner, "client", "update", client_id, "--post-logout-redirect-uri", "")
    assert emptied["post_logout_redirect_uris"] == []
    assert emptied["redirect_uris"] == other


@pytest.mark.parametrize(("args", "named"), [
    (["--redirect-uri", "http://evil.example/cb"], "plain http"),
    (["--scope", "openid admin:everything"], "admin:everything"),
    (["--grant-type", "client_credentials"], "public client"),
    (["--redirect-uri", ""], "at least one --redirect-uri"),
    (["--allowed-origin", "https://spa.example.com/path"], "origin"),
    (["--name", "two\nlines"], "control characters"),
])
def test_bad_input_exits_2_naming_it_and_writes_nothing(
        runner: CliRunner, args: list[str], named: str) -> None:
    created = code_client(runner)
    before = show(runner, created["client_id"])
    result = runner.invoke(main, ["client", "update", created["client_id"], "--name", "x", *args])
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert "Traceback" not in result.output
    assert show(runner, created["client_id"]) == before


def test_an_unknown_client_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "update", "nosuchclient", "--name", "x"])
    assert result.exit_code == 2
    assert "nosuchclient" in result.stderr


def test_a_change_of_auth_method_gives_or_takes_the_secret(runner: CliRunner) -> None:
    created = run_json(runner, "client", "create", "--name", "app", "--grant-type",
                       "authorization_code", "--redirect-uri", SPA)
    public = run_json(runner, "client", "update", created["client_id"], "--auth-method", "none")
    assert public["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in public
    confidential = run_json(runner, "client", "update", created["client_id"],
                            "--auth-method", "client_secret_post")
    assert len(confidential["client_secret"]) >= 43
    assert confidential["client_secret"] != created["client_secret"]
    unchanged = run_json(runner, "client", "update", created["client_id"], "--name", "app 2")
    assert "client_secret" not in unchanged  # shown once, when it was made


def test_flags_turn_on_and_off(runner: CliRunner) -> None:
    created = code_client(runner)
    on = run_json(runner, "client", "update", created["client_id"], "--require-par",
                  "--dpop-bound")
    assert on["require_pushed_authorization_requests"] is True
    assert on["dpop_bound_access_tokens"] is True
    off = run_json(runner, "client", "update", created["client_id"], "--no-dpop-bound")
    assert off["dpop_bound_access_tokens"] is False
    assert off["require_pushed_authorization_requests"] is True


def test_allowed_origins_are_checked_and_kept_as_browsers_write_them(runner: CliRunner) -> None:
    created = code_client(runner, "--allowed-origin", "HTTPS://App.Example.com:443/")
    assert created["allowed_origins"] == ["https://app.example.com"]
    updated = run_json(runner, "client", "update", created["client_id"],
                       "--allowed-origin", "http://localhost:5173",
                       "--allowed-origin", "https://other.example.com")
    assert updated["allowed_origins"] == ["http://localhost:5173", "https://other.example.com"]
    for bad in ("*", "null", "http://app.example.com", "https://*.example.com",
                "https://user@app.example.com", "https://app.example.com/?q", "app.example.com"):
        refused = runner.invoke(main, ["client", "update", created["client_id"],
                                       "--allowed-origin", bad])
        assert refused.exit_code == 2, (bad, refused.output)
        assert "origin" in refused.stderr
    assert show(runner, created["client_id"])["allowed_origins"] == updated["allowed_origins"]


def test_create_and_update_share_every_registration_option() -> None:
    create = {p.name for p in main.commands["client"].commands["create"].params}  # type: ignore[attr-defined]
    update = {p.name for p in main.commands["client"].commands["update"].params}  # type: ignore[attr-defined]
    shared = {o(lambda: None).__click_params__[0].name for o in METADATA_OPTIONS}  # type: ignore[attr-defined]
    assert shared <= create & update
    assert {"redirect_uris", "allowed_origins", "scope", "grant_types"} <= shared


def test_update_help_says_how_lists_are_replaced(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "update", "--help"])
    assert result.exit_code == 0
    assert "replaces the whole list" in result.output
    assert "CLIENT_ID" in result.output
