"""`authserver registration-token create|list|revoke`: initial access tokens for dynamic client
registration (AUTHSERVER_REGISTRATION=token)."""

from __future__ import annotations

import time

import click

from ..events import fingerprint
from ..store.registration import (
    create_initial_access_token,
    initial_access_tokens,
    revoke_initial_access_token,
    token_id,
)
from ._common import (
    audit_admin,
    database_session,
    date_text,
    echo_fields,
    echo_json,
    echo_table,
    load_settings,
)
from .errors import BadInput, Group

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
    made_id = fingerprint(raw)
    audit_admin("registration_token_created", id=made_id, expires_at=expires_at)
    if as_json:
        echo_json({"initial_access_token": raw, "id": made_id, "expires_at": expires_at})
        return
    echo_fields([("initial_access_token", f"{raw}  (shown once; registers one client)"),
                 ("id", made_id), ("expires", date_text(expires_at))])


def _state(used_at: int | None, client_id: str | None, expires_at: int, now: int) -> str:
    if used_at is not None:
        return f"used {date_text(used_at)}" + (f" by {client_id}" if client_id else "")
    return "expired" if expires_at <= now else "unused"


@registration_token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_tokens(as_json: bool) -> None:
    """List the initial access tokens (never the tokens themselves): id, dates, whether used."""
    now = int(time.time())
    with database_session() as session:
        tokens = initial_access_tokens(session)
    if as_json:
        echo_json({"registration_tokens": [
            {"id": token_id(t), "created_at": t.created_at, "expires_at": t.expires_at,
             "used_at": t.used_at, "client_id": t.client_id,
             "state": _state(t.used_at, t.client_id, t.expires_at, now)} for t in tokens]})
        return
    echo_table(("id", "created", "expires", "state"),
               [(token_id(t), date_text(t.created_at), date_text(t.expires_at),
                 _state(t.used_at, t.client_id, t.expires_at, now)) for t in tokens])


@registration_token.command("revoke")
@click.argument("token_id_given", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def revoke(token_id_given: str, as_json: bool) -> None:
    """Revoke an initial access token by its id (`registration-token list`): it registers
    nothing from now on."""
    with database_session() as session:
        if not revoke_initial_access_token(session, token_id_given):
            raise BadInput(f"no registration token with id {token_id_given!r}")
    audit_admin("registration_token_revoked", id=token_id_given)
    if as_json:
        echo_json({"revoked": token_id_given})
        return
    click.echo(f"revoked registration token {token_id_given}")
