"""`authserver user mfa list|reset`: a user's second factors, listed, and removed by the
operator (a lost phone): the rules are operations/mfa.py's, shared with the admin API."""

from __future__ import annotations

import click

from ..operations import mfa, users
from ..operations.errors import NotFound
from ._common import audit_admin, database_session, date_text, echo_fields, echo_json
from .errors import BadInput, Group


@click.group("mfa", cls=Group)
def mfa_group() -> None:
    """A user's second factors (authenticator app, passkeys, recovery codes)."""


@mfa_group.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_factors(username: str, as_json: bool) -> None:
    """Show the user's second factors: the authenticator app, passkeys, recovery codes left."""
    with database_session() as session:
        try:
            data = mfa.factors(session, users.find(session, username))
        except NotFound as exc:
            raise BadInput(exc.message) from None
    if as_json:
        echo_json(data)
        return
    totp = data["totp"]
    echo_fields([
        ("authenticator app", f"since {date_text(totp['confirmed_at'])}" if totp else "(none)"),
        ("passkeys", str(len(data["passkeys"])) if data["passkeys"] else "(none)"),
        ("recovery codes left", str(data["recovery_codes_left"])),
    ])


@mfa_group.command("reset")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def reset(username: str, as_json: bool) -> None:
    """Remove every second factor of the user (authenticator app, passkeys, recovery codes):
    the password alone signs them in again, and they may set up new ones."""
    with database_session() as session:
        try:
            removed = mfa.reset(session, users.find(session, username))
        except NotFound as exc:
            raise BadInput(exc.message) from None
    audit_admin("user_mfa_reset", username=username, totp=removed["totp"] is not None,
                passkeys=len(removed["passkeys"]),
                recovery_codes=removed["recovery_codes_left"])
    if as_json:
        echo_json({"username": username, "removed": removed})
        return
    click.echo(f"removed the second factors of {username}")
