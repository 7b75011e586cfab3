"""deploy/ (issue #27): the backup and restore procedure of deploy/README.md run as written
against PostgreSQL, and the systemd unit starts the command that exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from authserver.cli import main

from .conftest import POSTGRES_URL

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


@pytest.fixture
def two_databases(postgres_ready: bool) -> Iterator[tuple[str, str]]:
    """Two new, empty PostgreSQL databases (the one backed up, the one restored into)."""
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    names = [f"backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = make_url(POSTGRES_URL)
    yield tuple(base.set(database=name).render_as_string(hide_password=False)  # type: ignore[misc]
                for name in names)
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_the_documented_backup_restores_clients_users_and_schema(
    two_databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = two_databases
    runner = CliRunner()
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", source)
    made = runner.invoke(main, ["client", "create", "--name", "kept", "--json"])
    assert made.exit_code == 0, made.output
    client_id = made.stdout.split('"client_id": "')[1].split('"')[0]
    assert runner.invoke(main, ["user", "create", "--username", "kept", "--password-stdin"],
                         input="a long password\n").exit_code == 0
    dump = tmp_path / "authserver.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(source)],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq(target)}", str(dump)],
                   check=True, capture_output=True, timeout=60)
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", target)
    restored = runner.invoke(main, ["client", "show", client_id])
    assert restored.exit_code == 0 and "kept" in restored.stdout
    assert "kept" in runner.invoke(main, ["user", "list"]).stdout
    status = runner.invoke(main, ["status"])
    assert "(up to date)" in status.stdout


def test_the_systemd_unit_runs_serve_with_options_that_exist() -> None:
    unit = (DEPLOY / "authserver.service").read_text()
    command = re.search(r"^ExecStart=\S+/authserver (.*)$", unit, re.M)
    assert command is not None
    options = re.findall(r"--[a-z-]+", command.group(1))
    serve_help = CliRunner().invoke(main, ["serve", "--help"]).stdout
    assert options and all(option in serve_help for option in options)
    settings = (DEPLOY / "authserver.env").read_text()
    names = re.findall(r"^(AUTHSERVER_[A-Z_]+)=", settings, re.M)
    readme = (DEPLOY.parent / "README.md").read_text()
    assert names and all(f"| {name} |" in readme for name in names)
