"""Odds and ends (issue "Hardening, round three", item 10): the `profile` standard claim (a URL)
is settable with --claim; `serve` removes its metrics directory from TMPDIR when it stops (a
real start and stop)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from authserver.cli import main
from authserver.config import Settings

from .support import copy_keys, start_server


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", settings.keys_dir)
    monkeypatch.setenv("AUTHSERVER_INSTANCE_DIR", settings.instance_dir)


@pytest.mark.usefixtures("cli_env")
def test_the_profile_claim_is_a_url_that_can_be_set() -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["user", "create", "--username", "ada", "--password-stdin",
                                   "--claim", "profile=https://ada.example/about", "--json"],
                            input="ada-password-1\n")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["claims"]["profile"] == "https://ada.example/about"
    refused = runner.invoke(main, ["user", "update", "ada", "--claim", "profile=javascript:x"])
    assert refused.exit_code == 2 and "profile must be an absolute http(s) URL" in refused.output


def test_serve_removes_its_metrics_directory_when_it_stops(
    tmp_path: Path, key_template: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'm.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1,
                          extra_env={"TMPDIR": str(temp)})
    try:
        assert server.http.get("/metrics").status_code in (200, 401, 403, 404)
        assert [p.name for p in temp.iterdir() if p.name.startswith("authserver-metrics-")]
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert [p.name for p in temp.iterdir() if p.name.startswith("authserver-metrics-")] == []
    assert "Traceback" not in server.log()
