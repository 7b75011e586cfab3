"""`authserver registration-token create`: initial access tokens for dynamic client
registration (AUTHSERVER_REGISTRATION=token)."""

from __future__ import annotations

import time

import click

from ..store.registration import create_initial_access_token
from ._common import audit_admin, database_session, echo_json, load_settings
from .errors import Group

DEFAULT_TTL = 86_400


@click.group("registration-token", cls=Group)
def registration_token() -> None:
    """Initial access tokens: each lets one client register itself (RFC 7591 §3)."""


@registration_token.command("create")
@click.option("--ttl", type=click.IntRange(min=1), default=DEFAULT_TTL, show_default=True,
              help="Seconds until the token expires, used or not.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(ttl: int, as_json: bool) -> None:
    """Make a token that registers one client, once. It is shown once and stored hashed."""
    if load_settings().registration != "token":
        click.echo("note: AUTHSERVER_REGISTRATION is not 'token'; the token works once it is",
                   err=True)
    with database_session() as session:
        raw, expires_at = create_initial_access_token(session, now=int(time.time()), ttl=ttl)
    audit_admin("registration_token_created", expires_at=expires_at)
    if as_json:
        echo_json({"initial_access_token": raw, "expires_at": expires_at})
        return
    click.echo(f"initial_access_token: {raw}  (shown once; registers one client)")
    click.echo(f"expires_at:           {expires_at}")
