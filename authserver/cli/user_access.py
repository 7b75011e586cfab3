"""`authserver user sessions|consents`: what a user has open and granted, listed and ended
by the operator (a lost laptop, an app to cut off)."""

from __future__ import annotations

import time
from dataclasses import asdict

import click

from ..models import User
from ..operations import users as operations
from ..store import Session
from ..store.user_access import consents, revoke_consent
from ..store.users import find_user
from ._common import audit_admin, database_session, date_text, echo_json, echo_table
from .errors import BadInput, Group
from .users import _run
from .verbatim import VerbatimArguments


def _user(session: Session, username: str) -> User:
    found = find_user(session, username)
    if found is None:
        raise BadInput(f"no user named {username!r}")
    return found


@click.group("sessions", cls=Group)
def sessions() -> None:
    """A user's sign-in sessions: list them, end them."""


@sessions.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_sessions(username: str, as_json: bool) -> None:
    """List the user's live sign-in sessions: sid, start, expiry, the apps signed in to."""
    with database_session() as session:
        found = _run(lambda: operations.list_sessions(session, username,
                                                      now=int(time.time()))).items
    if as_json:
        echo_json({"sessions": found})
        return
    echo_table(("sid", "started", "expires", "apps"),
               [(s["sid"], date_text(s["started_at"]), date_text(s["expires_at"]),
                 " ".join(s["clients"]) or "-") for s in found])


# A sid is base64url and may begin with "-": read such a word as the sid.
@sessions.command("revoke", cls=VerbatimArguments)
@click.argument("username")
@click.argument("sid", required=False)
@click.option("--all", "every", is_flag=True, help="End every session of the user.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def revoke_sessions(username: str, sid: str | None, every: bool, as_json: bool) -> None:
    """End one session (its sid, from `user sessions list`) or --all: the browser must sign in
    again. No back-channel logout is sent; the apps' refresh tokens stay valid."""
    if (sid is None) == (not every):
        raise click.UsageError("give a SID or --all (not both)")
    with database_session() as session:
        ended = _run(lambda: operations.end_sessions(session, username, now=int(time.time()),
                                                     sid=sid))
    audit_admin("user_sessions_ended", username=username, sid=sid, ended=ended)
    if as_json:
        echo_json({"ended": ended})
        return
    click.echo(f"ended {ended} session(s) of {username}")


@click.group("consents", cls=Group)
def consents_group() -> None:
    """The apps a user consented to: list them, revoke one."""


@consents_group.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_consents(username: str, as_json: bool) -> None:
    """List the apps the user consented to, with the scopes and since when."""
    with database_session() as session:
        found = consents(session, _user(session, username))
    if as_json:
        echo_json({"consents": [asdict(c) for c in found]})
        return
    echo_table(("client_id", "name", "scope", "since"),
               [(c.client_id, c.client_name, c.scope, date_text(c.since)) for c in found])


@consents_group.command("revoke")
@click.argument("username")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def revoke(username: str, client_id: str, as_json: bool) -> None:
    """Withdraw the user's consent to an app and revoke its refresh tokens for the user: the
    app asks again next time."""
    with database_session() as session:
        had, revoked = revoke_consent(session, _user(session, username), client_id,
                                      int(time.time()))
        if not had:
            raise BadInput(f"{username} has no consent for client {client_id!r}")
    audit_admin("user_consent_revoked", username=username, client_id=client_id,
                grants_revoked=revoked)
    if as_json:
        echo_json({"client_id": client_id, "grants_revoked": revoked})
        return
    click.echo(f"revoked {username}'s consent to {client_id}; {revoked} refresh grant(s) revoked")
