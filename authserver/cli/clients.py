"""`authserver client ...`: register and manage OAuth clients."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Client
from ..policy import SUPPORTED_AUTH_METHODS, SUPPORTED_GRANT_TYPES
from ..store.apis import load_registry, sample_api
from ..store.client_metadata import RegistrationError
from ..store.clients import client_to_dict, find_client, register_client, rotate_client_secret
from ._common import audit_admin, database_session, echo_json, load_settings


def _find(session: Session, client_id: str) -> Client:
    found = find_client(session, client_id)
    if found is None:
        raise click.ClickException(f"no client with client_id {client_id!r}")
    return found


@click.group()
def client() -> None:
    """Register and manage OAuth clients."""


@client.command("create")
@click.option("--name", required=True, help="Human-readable client name.")
@click.option("--grant-type", "grant_types", multiple=True,
              type=click.Choice(SUPPORTED_GRANT_TYPES),
              help="Allowed grant type (repeatable). Default: client_credentials.")
@click.option("--scope", default=None,
              help='Allowed scopes, space-separated, e.g. "profile notes:read": OpenID scopes '
                   "and scopes of registered APIs (`authserver api list`).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Registered redirect URI (repeatable), matched exactly.")
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True,
              help="Where logout may return the browser to (repeatable), matched exactly.")
@click.option("--auth-method", type=click.Choice(SUPPORTED_AUTH_METHODS),
              default="client_secret_basic", show_default=True,
              help="Token endpoint authentication method; 'none' makes a public client.")
@click.option("--require-par", is_flag=True,
              help="Accept its authorization requests only pushed to /oauth/par (RFC 9126).")
@click.option("--profile", type=click.Choice(["fapi2"]), default=None,
              help="Keep the client to the FAPI 2.0 Security Profile: PAR, PKCE S256, "
                   "private_key_jwt, DPoP-bound tokens, the code grant only.")
@click.option("--dpop-bound", is_flag=True,
              help="Issue it only DPoP-bound tokens: every token request needs a proof (RFC 9449).")
@click.option("--backchannel-logout-uri", default=None,
              help="Where logout tokens are POSTed when the user's session ends (https).")
@click.option("--jwks", "jwks_file", type=click.File("r"), default=None,
              help="JSON file with the client's public JWK Set (for private_key_jwt and "
                   "signed request objects).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(name: str, grant_types: tuple[str, ...], scope: str | None,
           redirect_uris: tuple[str, ...], post_logout_redirect_uris: tuple[str, ...],
           auth_method: str, profile: str | None, require_par: bool, dpop_bound: bool,
           backchannel_logout_uri: str | None,
           jwks_file: Any, as_json: bool) -> None:
    """Register a client. Its secret is printed once and stored only as a hash."""
    try:
        jwks = json.load(jwks_file) if jwks_file is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--jwks is not JSON: {exc}") from None
    with database_session() as session:
        try:
            registered = register_client(
                session, name=name, grant_types=list(grant_types), scope=scope,
                redirect_uris=list(redirect_uris),
                post_logout_redirect_uris=list(post_logout_redirect_uris),
                auth_method=auth_method, jwks=jwks,
                backchannel_logout_uri=backchannel_logout_uri,
                require_par=require_par,
                dpop_bound=dpop_bound,
                profile=profile,
                known_scopes=load_registry(
                    session, sample_api(load_settings().api_audience)).known_scopes,
            )
        except RegistrationError as exc:
            raise click.UsageError(str(exc)) from None
        data = client_to_dict(registered.client)
        if registered.client_secret is not None:
            data["client_secret"] = registered.client_secret
    audit_admin("client_created", client_id=data["client_id"], grant_types=data["grant_types"],
                scope=data["scope"])
    if as_json:
        echo_json(data)
        return
    click.echo(f"client_id:     {data['client_id']}")
    if "client_secret" in data:
        click.echo(f"client_secret: {data['client_secret']}  (shown once; store it now)")
    click.echo(f"grant_types:   {' '.join(data['grant_types'])}")  # type: ignore[arg-type]
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
            raise click.ClickException(str(exc)) from None
    audit_admin("client_secret_rotated", client_id=client_id)
    if as_json:
        echo_json({"client_id": client_id, "client_secret": secret})
        return
    click.echo(f"client_secret: {secret}  (shown once; store it now)")
