"""What a new operator meets first on the command line (issue #27): one exit-code rule, errors
as JSON with --json, a database that cannot be used told in one line, `status`, `db upgrade`
saying what it did, a password prompt without echo at a terminal, help lines whole."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path
from select import select as wait_readable

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from authserver.cli import main
from authserver.config import Settings
from authserver.db import Database
from authserver.models import Consent, LoginSession, LoginSessionClient, RefreshTokenFamily, User

from .conftest import POSTGRES_URL
from .support import copy_keys

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("AUTHSERVER_KEYS_DIR", str(tmp_path / "keys"))
    return CliRunner()


# -- exit codes and JSON errors ---------------------------------------------------------------

def test_an_unknown_name_is_bad_input_exit_2_without_usage_lines(runner: CliRunner) -> None:
    for args in (["client", "show", "nope"], ["user", "delete", "nope"],
                 ["api", "show", "https://nope.example.com"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("Error: no ") and "Usage:" not in result.stderr


def test_json_errors_are_one_json_object_on_stderr(runner: CliRunner) -> None:
    result = runner.invoke(main, ["client", "show", "nope", "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert json.loads(result.stderr) == {
        "error": "bad_input", "message": "no client with client_id 'nope'", "exit_code": 2}
    usage = runner.invoke(main, ["client", "create", "--json", "--grant-type", "implicit"])
    assert usage.exit_code == 2
    assert json.loads(usage.stderr)["error"] == "bad_input"
    assert "implicit" in json.loads(usage.stderr)["message"]


def test_a_failed_operation_is_exit_1_and_json_says_failed(runner: CliRunner,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", "postgresql+psycopg://u:hunter2@127.0.0.1:9/db")
    result = runner.invoke(main, ["client", "list", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["error"] == "failed" and error["exit_code"] == 1
    assert "postgresql+psycopg://u:***@127.0.0.1:9/db" in error["message"]
    assert "hunter2" not in result.stderr


# -- a database that cannot be used ---------------------------------------------------------

@pytest.mark.parametrize(("url", "says"), [
    ("postgresql+psycopg://postgres:pw@127.0.0.1:9/test", "Connection refused"),
    ("postgresql+psycopg2://postgres@127.0.0.1/test", "driver is not installed"),
    ("nosuchdb://x/y", "no dialect"),
])
def test_database_trouble_is_one_line_exit_1_in_every_command(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", url)
    for args in (["client", "list"], ["user", "list"], ["db", "upgrade"], ["db", "prune"],
                 ["api", "list"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert says in result.stderr and "AUTHSERVER_DATABASE_URL" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert ":pw@" not in result.stderr


def test_a_missing_postgresql_database_says_to_create_it(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, postgres_ready: bool
) -> None:
    missing = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_27"
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", missing)
    result = runner.invoke(main, ["client", "list"])
    assert result.exit_code == 1
    assert 'database "no_such_database_27" does not exist' in result.stderr
    assert "create it first" in result.stderr


def test_db_upgrade_says_what_it_did(runner: CliRunner) -> None:
    first = runner.invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0 and first.stdout.startswith("created the database schema")
    again = runner.invoke(main, ["db", "upgrade"])
    assert again.stdout.startswith("the database schema is up to date (revision ")


# -- where the state is ------------------------------------------------------------------------

def test_status_names_issuer_database_and_key_store_without_changing_anything(
    runner: CliRunner, tmp_path: Path
) -> None:
    before = runner.invoke(main, ["status", "--json"])
    assert before.exit_code == 0, before.output
    state = json.loads(before.stdout)
    assert state["issuer"] == "http://127.0.0.1:5000"
    assert state["database"] == f"sqlite:///{tmp_path / 'cli.db'}"
    assert state["key_store"] == f"files in {tmp_path / 'keys'}"
    assert state["schema"].startswith("no database file yet") and state["keys"].startswith("none")
    assert not (tmp_path / "cli.db").exists() and not (tmp_path / "keys").exists()
    runner.invoke(main, ["db", "upgrade"])
    table = runner.invoke(main, ["status"])
    assert "schema:" in table.stdout and "(up to date)" in table.stdout


def test_the_suite_keeps_state_out_of_the_working_directory() -> None:
    instance = Path(os.environ["AUTHSERVER_INSTANCE_DIR"]).resolve()
    assert REPO not in instance.parents


# -- the password prompt -----------------------------------------------------------------------

def _run_at_a_terminal(args: list[str], env: dict[str, str], typed: list[str]) -> tuple[int, str]:
    """Run `authserver ARGS` with a pseudo-terminal as its stdin, stdout and stderr; type each
    of `typed` after the next prompt; return its exit status and everything the terminal
    showed. (Popen, not pty.fork: forking this many-threaded test process could hang.)"""
    terminal, child_end = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "authserver", *args], env=env,
                               stdin=child_end, stdout=child_end, stderr=child_end,
                               start_new_session=True)  # no /dev/tty: getpass uses stdin's
    os.close(child_end)
    shown, deadline = b"", time.monotonic() + 30

    def read() -> bytes:
        ready, _, _ = wait_readable([terminal], [], [], max(0.0, deadline - time.monotonic()))
        try:
            return os.read(terminal, 1024) if ready else b""
        except OSError:  # the child closed the terminal
            return b""

    for answered, line in enumerate(typed):
        # getpass flushes what was typed ahead: wait for each prompt before typing
        while shown.count(b": ") <= answered and (chunk := read()):
            shown += chunk
        os.write(terminal, line.encode() + b"\n")
    while chunk := read():
        shown += chunk
    code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    os.close(terminal)
    return code, shown.decode(errors="replace")


def test_password_stdin_at_a_terminal_prompts_without_echo(tmp_path: Path) -> None:
    env = {**os.environ, "AUTHSERVER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "AUTHSERVER_KEYS_DIR": str(tmp_path / "keys")}
    code, shown = _run_at_a_terminal(
        ["user", "create", "--username", "tty", "--password-stdin"], env,
        ["secret at the tty", "secret at the tty"])
    assert code == 0, shown
    assert "Password: " in shown and "Password again: " in shown
    assert "secret at the tty" not in shown  # never echoed
    assert "created user tty" in shown


# -- help and other rough edges ----------------------------------------------------------------

def test_group_help_lines_are_never_cut(runner: CliRunner) -> None:
    groups = [[]] + [[name] for name, command in main.commands.items()
                     if hasattr(command, "commands")]
    for args in groups:
        result = runner.invoke(main, [*args, "--help"], terminal_width=80)
        assert result.exit_code == 0
        listing = result.stdout.split("Commands:")[1]
        cut = [line for line in listing.splitlines() if line.rstrip().endswith("...")]
        assert cut == [], (args, listing)


def test_python_m_bench_help_does_not_start_a_benchmark() -> None:
    result = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m bench")


# -- lists, registration tokens, a user's sessions and consents -------------------------------

DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def test_lists_have_headers_aligned_columns_dates_and_none_when_empty(runner: CliRunner) -> None:
    for group in ("client", "user", "registration-token"):
        assert runner.invoke(main, [group, "list"]).stdout == "(none)\n"
    made = run_json(runner, "client", "create", "--name", "reports")
    lines = runner.invoke(main, ["client", "list"]).stdout.splitlines()
    assert lines[0].split() == ["client_id", "name", "grant", "types", "auth", "method", "created"]
    assert lines[1].startswith(made["client_id"])
    assert lines[0].index("name") == lines[1].index("reports")  # aligned
    assert re.search(DATE, lines[1]) and "None" not in lines[1]


def run_json(runner: CliRunner, *args: str, stdin: str | None = None) -> dict:
    result = runner.invoke(main, [*args, "--json"], input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_registration_tokens_are_listed_by_id_and_revoked(runner: CliRunner) -> None:
    made = run_json(runner, "registration-token", "create")
    assert made["id"] == hashlib.sha256(made["initial_access_token"].encode()).hexdigest()[:8]
    listed = run_json(runner, "registration-token", "list")["registration_tokens"]
    assert [(t["id"], t["state"]) for t in listed] == [(made["id"], "unused")]
    assert made["initial_access_token"] not in runner.invoke(main, ["registration-token", "list"]).stdout
    assert runner.invoke(main, ["registration-token", "revoke", made["id"]]).exit_code == 0
    assert run_json(runner, "registration-token", "list")["registration_tokens"] == []
    again = runner.invoke(main, ["registration-token", "revoke", made["id"]])
    assert again.exit_code == 2 and "no registration token" in again.stderr


def test_keys_rotate_dry_run_names_no_none(runner: CliRunner, tmp_path: Path,
                                           key_template: Path) -> None:
    copy_keys(key_template, tmp_path)
    result = runner.invoke(main, ["keys", "rotate", "--dry-run", "--force"])
    assert result.exit_code == 0, result.output
    assert "None" not in result.stdout and "(a new key) new next key" in result.stdout


@pytest.fixture
def signed_in(runner: CliRunner, tmp_path: Path) -> dict[str, str]:
    """carol, signed in twice in browsers, one of them to an app she consented to, with a
    refresh grant of that app (rows as the login, consent and token endpoint write them)."""
    run_json(runner, "user", "create", "--username", "carol", "--password-stdin",
             stdin="a long password\n")
    app = run_json(runner, "client", "create", "--name", "notes app", "--grant-type",
                   "authorization_code", "--grant-type", "refresh_token",
                   "--redirect-uri", "https://app.example.com/cb")
    database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    now = int(time.time())
    with database.session() as session:
        carol = session.scalars(select(User).where(User.username == "carol")).one()
        for n in (1, 2):
            session.add(LoginSession(id_hash=f"h{n}", user_id=carol.id, auth_time=now - 60 * n,
                                     expires_at=now + 3600, sid=f"sid-{n}"))
        session.flush()
        session.add(LoginSessionClient(session_id_hash="h1", client_id=app["client_id"]))
        session.add(Consent(user_id=carol.id, client_id=app["client_id"], scope="openid profile"))
        session.add(RefreshTokenFamily(id="family-1", client_id=app["client_id"], user_id=carol.id,
                                       scope="openid", auth_time=now, expires_at=now + 3600))
    database.dispose()
    return {"client_id": app["client_id"], "database": str(tmp_path / "cli.db")}


def test_a_users_sessions_are_listed_and_ended(runner: CliRunner, signed_in: dict[str, str]) -> None:
    listed = run_json(runner, "user", "sessions", "list", "carol")["sessions"]
    assert [(s["sid"], s["clients"]) for s in listed] == [
        ("sid-2", []), ("sid-1", [signed_in["client_id"]])]
    table = runner.invoke(main, ["user", "sessions", "list", "carol"]).stdout.splitlines()
    assert table[0].split() == ["sid", "started", "expires", "apps"]
    assert re.search(DATE, table[1])
    assert run_json(runner, "user", "sessions", "revoke", "carol", "sid-1") == {"ended": 1}
    assert [s["sid"] for s in run_json(runner, "user", "sessions", "list", "carol")["sessions"]] \
        == ["sid-2"]
    gone = runner.invoke(main, ["user", "sessions", "revoke", "carol", "sid-1"])
    assert gone.exit_code == 2
    # A sid is base64url and may begin with "-": still the sid, even with an "h" in it (click
    # read "-xh_1" as -x -h -_ -1 and printed the help, exit 0, nothing ended).
    dashed = runner.invoke(main, ["user", "sessions", "revoke", "carol", "-xh_1"])
    assert dashed.exit_code == 2 and "no live session '-xh_1' of carol" in dashed.stderr
    assert run_json(runner, "user", "sessions", "revoke", "carol", "--all") == {"ended": 1}
    assert runner.invoke(main, ["user", "sessions", "list", "carol"]).stdout == "(none)\n"
    neither = runner.invoke(main, ["user", "sessions", "revoke", "carol"])
    assert neither.exit_code == 2


def test_a_users_consent_is_listed_and_revoked_with_its_grants(
    runner: CliRunner, signed_in: dict[str, str]
) -> None:
    client_id = signed_in["client_id"]
    listed = run_json(runner, "user", "consents", "list", "carol")["consents"]
    assert [(c["client_id"], c["client_name"], c["scope"]) for c in listed] == [
        (client_id, "notes app", "openid profile")]
    revoked = run_json(runner, "user", "consents", "revoke", "carol", client_id)
    assert revoked == {"client_id": client_id, "grants_revoked": 1}
    assert runner.invoke(main, ["user", "consents", "list", "carol"]).stdout == "(none)\n"
    engine = create_engine(f"sqlite:///{signed_in['database']}")
    with engine.connect() as conn:
        assert conn.execute(text("select revoked_at from refresh_token_families")).scalar()
    engine.dispose()
    again = runner.invoke(main, ["user", "consents", "revoke", "carol", client_id])
    assert again.exit_code == 2 and "no consent" in again.stderr
