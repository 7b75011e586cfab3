"""`authserver client ...`: register and manage OAuth clients."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Client
from ..store.apis import load_registry, sample_api
from ..store.client_metadata import RegistrationError
from ..store.clients import (
    Metadata,
    client_to_dict,
    current_metadata,
    find_client,
    register,
    rotate_client_secret,
    update_client,
)
from ._common import audit_admin, database_session, echo_json, load_settings
from .client_options import given_metadata, metadata_options
from .errors import BadInput, Group


def _find(session: Session, client_id: str) -> Client:
    found = find_client(session, client_id)
    if found is None:
        raise BadInput(f"no client with client_id {client_id!r}")
    return found


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
        registry = load_registry(session, sample_api(load_settings().api_audience))
        try:
            registered = register(session, metadata, registry.known_scopes,
                                  known_audiences=registry.apis,
                                  signing_algs=load_settings().signing_algs)
        except RegistrationError as exc:
            raise click.UsageError(str(exc)) from None
        data = client_to_dict(registered.client)
        if registered.client_secret is not None:
            data["client_secret"] = registered.client_secret
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
        found = find_client(session, client_id)
        if found is None:
            raise click.UsageError(f"no client with client_id {client_id!r}")
        registry = load_registry(session, sample_api(load_settings().api_audience))
        try:
            secret = update_client(found, replace(current_metadata(found), **given),
                                   registry.known_scopes, known_audiences=registry.apis,
                                   signing_algs=load_settings().signing_algs)
        except RegistrationError as exc:
            raise click.UsageError(str(exc)) from None
        session.flush()
        data = client_to_dict(found)
        if secret is not None:
            data["client_secret"] = secret
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
        clients = [client_to_dict(c) for c in session.scalars(select(Client).order_by(Client.id))]
    if as_json:
        echo_json({"clients": clients})
        return
    for c in clients:
        click.echo(f"{c['client_id']}  {c['client_name']}  [{' '.join(c['grant_types'])}]")  # type: ignore[arg-type]


@client.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(client_id: str, as_json: bool) -> None:
    """Show one client's registration (never its secret)."""
    with database_session() as session:
        data = client_to_dict(_find(session, client_id))
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
        session.delete(_find(session, client_id))
    audit_admin("client_deleted", client_id=client_id)
    click.echo(f"deleted client {client_id}")


@client.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Give a confidential client a new secret; the old one stops working at once."""
    with database_session() as session:
        found = _find(session, client_id)
        try:
            secret = rotate_client_secret(found)
        except RegistrationError as exc:
            raise BadInput(str(exc)) from None
    audit_admin("client_secret_rotated", client_id=client_id)
    if as_json:
        echo_json({"client_id": client_id, "client_secret": secret})
        return
    click.echo(f"client_secret: {secret}  (shown once; store it now)")
