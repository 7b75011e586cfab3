"""`authserver user ...`: manage the users who log in."""

from __future__ import annotations

import json
import time

import click

from ..operations import users as operations
from ..operations.errors import OperationError
from ._common import (
    audit_admin,
    database_session,
    date_text,
    echo_fields,
    echo_json,
    echo_table,
    read_password_stdin,
)
from .errors import BadInput, Group
from .groups import roles_text


@click.group(cls=Group)
def user() -> None:
    """Manage user accounts."""


CLAIM_HELP = ("An OpenID Connect standard claim (OIDC Core 5.1), e.g. given_name=Ada, "
              "birthdate=1815-12-10, address='{\"locality\": \"London\"}' (repeatable; "
              "NAME= removes it).")


def _claims(assignments: tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE pairs as text by claim name (the operations check the values)."""
    claims: dict[str, str] = {}
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        if not sep:
            raise click.UsageError(f"--claim takes NAME=VALUE, got {assignment!r}")
        if name in claims:
            raise click.UsageError(f"the claim {name!r} is given twice")
        claims[name] = raw
    return claims


def _run(operation):  # type: ignore[no-untyped-def]
    """An operation's refusal as exit 2 (nothing was written)."""
    try:
        return operation()
    except OperationError as exc:
        raise BadInput(exc.message) from None


@user.command("create")
@click.option("--username", required=True)
@click.option("--email", default=None)
@click.option("--name", default=None, help="Full name.")
@click.option("--claim", "claim_assignments", multiple=True, metavar="NAME=VALUE", help=CLAIM_HELP)
@click.option("--email-verified", is_flag=True,
              help="The email address is known to be the user's (else a mailed link verifies it).")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password as one line from standard input (required); at a "
                   "terminal, ask for it without echo.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(username: str, email: str | None, name: str | None,
           claim_assignments: tuple[str, ...], email_verified: bool, password_stdin: bool,
           as_json: bool) -> None:
    """Create a user; the password is stored as an argon2id hash."""
    claims = _claims(claim_assignments)
    if email_verified and email is None:
        raise click.UsageError("--email-verified needs --email")
    _run(lambda: operations.checked_claims(claims))  # before the password is asked for
    password = read_password_stdin()
    with database_session() as session:
        data = _run(lambda: operations.create_user(
            session, username=username, password=password, email=email, name=name,
            claims=claims, email_verified=email_verified, now=int(time.time())))
    audit_admin("user_created", sub=data["sub"], username=username)
    if as_json:
        echo_json(data)
        return
    click.echo(f"created user {data['username']} (sub {data['sub']})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_users(as_json: bool) -> None:
    """List users."""
    with database_session() as session:
        users = operations.every_user(session)
    if as_json:
        echo_json({"users": users})
        return
    echo_table(("username", "sub", "email", "created"),
               [(str(u["username"]), str(u["sub"]), str(u["email"] or "-"),
                 date_text(u.get("created_at"))) for u in users])  # type: ignore[arg-type]


@user.command("show")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(username: str, as_json: bool) -> None:
    """Show a user: identity, standard claims, groups and roles (direct and through groups)."""
    with database_session() as session:
        data = _run(lambda: operations.show_user(session, username))
    if as_json:
        echo_json(data)
        return
    claims = data["claims"]
    echo_fields([
        ("username", data["username"]), ("sub", data["sub"]), ("email", data["email"] or ""),
        ("name", data["name"] or ""), ("created", date_text(data["created_at"])),
        *((name, value if isinstance(value, str) else json.dumps(value))
          for name, value in sorted(claims.items())),
        ("groups", ", ".join(data["groups"])), ("roles", roles_text(data["roles"])),
        ("identities", ", ".join(f"{i['idp']}: {i['sub']}" for i in data["identities"])),
    ])


@user.command("update")
@click.argument("username")
@click.option("--email", default=None)
@click.option("--name", default=None, help="Full name.")
@click.option("--claim", "claim_assignments", multiple=True, metavar="NAME=VALUE", help=CLAIM_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def update(username: str, email: str | None, name: str | None,
           claim_assignments: tuple[str, ...], as_json: bool) -> None:
    """Change a user's email, name or standard claims."""
    assignments = list(claim_assignments)
    assignments += [f"email={email}"] if email is not None else []
    assignments += [f"name={name}"] if name is not None else []
    claims = _claims(tuple(assignments))
    if not claims:
        raise click.UsageError("nothing to change: give --email, --name or --claim")
    with database_session() as session:
        data = _run(lambda: operations.update_user(session, username, claims,
                                                   now=int(time.time())))
    audit_admin("user_updated", sub=data["sub"], username=username, claims=sorted(claims))
    if as_json:
        echo_json(data)
        return
    click.echo(f"updated user {username}: {', '.join(sorted(claims))}")


@user.command("delete")
@click.argument("username")
def delete(username: str) -> None:
    """Delete a user, their refresh tokens and their notes."""
    with database_session() as session:
        _run(lambda: operations.delete_user(session, username))
    audit_admin("user_deleted", username=username)
    click.echo(f"deleted user {username}")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password as one line from standard input (required); at a "
                   "terminal, ask for it without echo.")
def set_password_cmd(username: str, password_stdin: bool) -> None:
    """Set a user's password."""
    password = read_password_stdin("new password")
    with database_session() as session:
        revoked = _run(lambda: operations.set_password(session, username, password,
                                                       now=int(time.time())))
    audit_admin("user_password_set", username=username, grants_revoked=revoked)
    click.echo(f"password changed for {username}; {revoked} refresh grant(s) revoked")
