"""How every `authserver` command fails, one rule for all:

- exit 2: the input is wrong (a bad option or value, an unknown or duplicate name, a bad
  setting); nothing was written;
- exit 1: the input was fine but the operation failed (the database or key store could not
  do it, or the state forbids it now, e.g. a rotation too soon).

The message is one line on stderr; with `--json` it is one JSON object there instead
(`{"error": "bad_input" | "failed", "message": ..., "exit_code": ...}`), so a script that
reads JSON reads the failure too. A database that cannot be used is one line naming the
problem and the URL without its password, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from ..db_trouble import DatabaseUnusable


class BadInput(click.ClickException):
    """What the operator gave is wrong (unknown, duplicate, refused): exit 2, without click's
    usage lines (the message says what to change)."""

    exit_code = 2


def report(error: click.ClickException, *, as_json: bool) -> None:
    message = error.format_message()
    if not as_json:
        error.show()
        return
    kind = "bad_input" if error.exit_code == 2 else "failed"
    click.echo(json.dumps({"error": kind, "message": message, "exit_code": error.exit_code}),
               err=True)


def _exit(code: int) -> NoReturn:
    sys.exit(code)


class Group(click.Group):
    """A command group whose listing shows each command's whole first sentence, wrapped
    (click cuts it at the terminal's width with "...")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(limit=10_000))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class CommandGroup(Group):
    """The `authserver` group: reports failures by the rule above."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, False, **extra)
        try:
            result = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            report(exc, as_json="--json" in argv)
            _exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            _exit(1)
        _exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatabaseUnusable as exc:
            raise click.ClickException(str(exc)) from None
