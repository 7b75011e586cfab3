"""What the `authserver` subcommands share: settings, a migrated database session, JSON output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import events
from ..config import ConfigError, Settings
from ..db import Database, migrate
from ..ops import audit


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@contextmanager
def database_session() -> Iterator[Session]:
    """A migrated database and one session, committed when the command succeeds."""
    settings = load_settings()
    migrate(settings)
    database = Database(settings)
    try:
        with database.session() as session:
            yield session
    except IntegrityError as exc:
        raise click.ClickException(f"the database refused the change: {exc.orig}") from None
    finally:
        database.dispose()


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def read_password_stdin() -> str:
    """One line from stdin; the trailing newline is not part of the password."""
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if password.endswith("\r"):
        password = password[:-1]
    if not password:
        raise click.UsageError("no password on standard input")
    return password


def audit_admin(event: str, **fields: Any) -> None:
    """An audit line for an operator's change, with who ran it (the OS user). It goes to
    AUTHSERVER_AUDIT_LOG, else to instance/audit.log: never onto the operator's terminal."""
    settings = load_settings()
    audit.configure_for_cli(settings.audit_log, settings.instance_dir)
    events.record(f"admin.{event}", actor=getpass.getuser(), **fields)
