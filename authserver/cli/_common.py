"""What the `authserver` subcommands share: settings, a migrated database session, JSON output."""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import events
from ..config import ConfigError, Settings
from ..db import Database, migrate
from ..operations.registry import api_registry as registry_of
from ..ops import audit
from ..store.apis import ApiRegistry


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


def api_registry(session: Session) -> ApiRegistry:
    """Every API now, the built-in sample and administration APIs included."""
    return registry_of(session, load_settings())


def date_text(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch)) if epoch else "(unknown)"


def echo_fields(fields: list[tuple[str, str]]) -> None:
    """Readable output: "label: value" lines with the values aligned; a value over several
    lines keeps the alignment."""
    width = max((len(label) for label, _ in fields), default=0) + 2
    for label, value in fields:
        lines = value.split("\n") if value else ["(none)"]
        click.echo(f"{label + ':':<{width}}{lines[0]}".rstrip())
        for line in lines[1:]:
            click.echo(f"{'':<{width}}{line}")


def echo_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Aligned columns under a header; "(none)" for no rows."""
    if not rows:
        click.echo("(none)")
        return
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        click.echo("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=True))
                   .rstrip())


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def read_password_stdin(what: str = "password") -> str:
    """One line from stdin; the trailing newline is not part of the password. At a terminal,
    a prompt that does not echo (getpass), asked twice so a typo cannot become the password."""
    if sys.stdin.isatty():
        return _prompt_twice(what)
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if password.endswith("\r"):
        password = password[:-1]
    if not password:
        raise click.UsageError(f"no {what} on standard input")
    return password


def _prompt_twice(what: str) -> str:
    first = getpass.getpass(f"{what.capitalize()}: ")
    if not first:
        raise click.UsageError(f"no {what} given")
    if getpass.getpass(f"{what.capitalize()} again: ") != first:
        raise click.UsageError(f"the two {what}s differ: nothing was changed")
    return first


def audit_admin(event: str, **fields: Any) -> None:
    """An audit line for an operator's change, with who ran it (the OS user). It goes to
    AUTHSERVER_AUDIT_LOG, else to instance/audit.log: never onto the operator's terminal."""
    settings = load_settings()
    audit.configure_for_cli(settings.audit_log, settings.instance_dir)
    events.record(f"admin.{event}", actor=getpass.getuser(), **fields)
