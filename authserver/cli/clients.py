"""`authserver client ...`: register and manage OAuth clients."""

from __future__ import annotations

from typing import Any

import click

from ..operations import clients as operations
from ..operations.errors import OperationError
from ..store.clients import Metadata
from ._common import (
    audit_admin,
    database_session,
    date_text,
    echo_json,
    echo_table,
    load_settings,
)
from .client_options import given_metadata, metadata_options
from .errors import BadInput, Group


@click.group(cls=Group)
def client() -> None:
    """Register and manage OAuth clients."""


@client.command("create")
@click.option("--name", required=True, help="Human-readable client name.")
@metadata_options
@click.option("--profile", type=click.Choice(["fapi2"]), default=None,
              help="Keep the client to the FAPI 2.0 Security Profile: PAR, PKCE S256, "
                   "private_key_jwt, DPoP-bound tokens, the code grant only.")
@click.option("--resource-server", "resource_server", metavar="AUDIENCE", default=None,
              help="Make it the resource server of this API (`authserver api list`): it may "
                   "introspect every access token for the API. Needs no --grant-type.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(name: str, profile: str | None, resource_server: str | None, as_json: bool,
           **options: Any) -> None:
    """Register a client. Its secret is printed once and stored only as a hash."""
    metadata = Metadata(name=name, profile=profile, resource_server=resource_server,
                        **given_metadata(options))
    with database_session() as session:
        try:
            data = operations.create_client(session, load_settings(), metadata)
        except OperationError as exc:
            raise click.UsageError(exc.message) from None
    audit_admin("client_created", client_id=data["client_id"], grant_types=data["grant_types"],
                scope=data["scope"])
    _print_registration(data, as_json)


@client.command("update")
@click.argument("client_id")
@click.option("--name", default=None, help="Human-readable client name.")
@metadata_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def update(client_id: str, name: str | None, as_json: bool, **options: Any) -> None:
    """Change a client's registration: only what is given changes, with the checks of
    `client create`; a repeated option (--redirect-uri ...) replaces its whole list, and
    one empty value ('') empties it. Nothing is written if any value is refused."""
    given = given_metadata(options)
    if name is not None:
        given["name"] = name
    with database_session() as session:
        try:
            data = operations.update_client(session, load_settings(), client_id, given)
        except OperationError as exc:
            raise click.UsageError(exc.message) from None
    audit_admin("client_updated", client_id=client_id, changed=sorted(given))
    _print_registration(data, as_json)


def _print_registration(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(data)
        return
    click.echo(f"client_id:     {data['client_id']}")
    if "client_secret" in data:
        click.echo(f"client_secret: {data['client_secret']}  (shown once; store it now)")
    click.echo(f"grant_types:   {' '.join(data['grant_types'])}")
    click.echo(f"scope:         {data['scope']}")


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_clients(as_json: bool) -> None:
    """List registered clients."""
    with database_session() as session:
        clients = operations.every_client(session)
    if as_json:
        echo_json({"clients": clients})
        return
    echo_table(("client_id", "name", "grant types", "auth method", "created"),
               [(str(c["client_id"]), str(c["client_name"]),
                 " ".join(c["grant_types"]),  # type: ignore[arg-type]
                 str(c["token_endpoint_auth_method"]),
                 date_text(c["created_at"])) for c in clients])  # type: ignore[arg-type]


@client.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(client_id: str, as_json: bool) -> None:
    """Show one client's registration (never its secret)."""
    with database_session() as session:
        try:
            data = operations.show_client(session, client_id)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        shown = " ".join(value) if isinstance(value, list) else value
        click.echo(f"{key + ':':28} {shown}")


@client.command("delete")
@click.argument("client_id")
def delete(client_id: str) -> None:
    """Delete a client. Its access tokens stay valid until they expire."""
    with database_session() as session:
        try:
            operations.delete_client(session, client_id)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("client_deleted", client_id=client_id)
    click.echo(f"deleted client {client_id}")


@client.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Give a confidential client a new secret; the old one stops working at once."""
    with database_session() as session:
        try:
            secret = operations.rotate_secret(session, client_id)["client_secret"]
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("client_secret_rotated", client_id=client_id)
    if as_json:
        echo_json({"client_id": client_id, "client_secret": secret})
        return
    click.echo(f"client_secret: {secret}  (shown once; store it now)")
