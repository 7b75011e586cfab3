"""`authserver idp ...`: the other OpenID providers people may sign in with (federation)."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from ..oauth.upstream import UpstreamError, read_discovery
from ..store.idps import IdpError, create_idp, find_idp, idp_to_dict, list_idps, slug_of
from ._common import (
    audit_admin,
    database_session,
    echo_fields,
    echo_json,
    echo_table,
    load_settings,
    read_password_stdin,
)
from .errors import Group


@click.group("idp", cls=Group)
def idp() -> None:
    """Other OpenID providers to sign in with (Google, Entra ID, Keycloak, another authserver)."""


def _echo(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        echo_json(data)
        return
    echo_fields([(name, str(value)) for name, value in data.items()])


@idp.command("create")
@click.option("--name", required=True, help="Shown on the login page: \"Sign in with NAME\".")
@click.option("--issuer", required=True, help="The provider's issuer URL (its discovery is read).")
@click.option("--client-id", required=True, help="This server's client_id at the provider.")
@click.option("--client-secret-stdin", is_flag=True, required=True,
              help="Read the client secret as one line from standard input (required).")
@click.option("--slug", default=None, help="In the URLs (default: from the name).")
@click.option("--scope", default="openid email profile", show_default=True)
@click.option("--link-by-email", is_flag=True,
              help="Sign in as the local user with the same verified email, when the provider "
                   "says the email is verified.")
@click.option("--no-create-users", is_flag=True,
              help="Never create a local user for an identity not linked yet.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(name: str, issuer: str, client_id: str, client_secret_stdin: bool, slug: str | None,
           scope: str, link_by_email: bool, no_create_users: bool, as_json: bool) -> None:
    """Add a provider; prints the redirect_uri to register there."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise click.UsageError(f"--issuer must be an http(s) URL without query, got {issuer!r}")
    secret = read_password_stdin()
    settings = load_settings()
    try:
        discovery = read_discovery(issuer, settings.upstream_timeout)
    except UpstreamError as exc:
        raise click.ClickException(str(exc)) from None
    with database_session() as session:
        try:
            created = create_idp(
                session, slug=slug if slug is not None else slug_of(name), name=name,
                issuer=issuer, client_id=client_id, client_secret=secret, scope=scope,
                link_by_email=link_by_email, create_users=not no_create_users,
                discovery=discovery, passphrase=settings.keys_passphrase)
        except IdpError as exc:
            raise click.UsageError(str(exc)) from None
        data = idp_to_dict(created, settings.issuer)
    audit_admin("idp_created", slug=data["slug"], issuer=issuer)
    _echo(data, as_json)


@idp.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(as_json: bool) -> None:
    """List the providers."""
    issuer = load_settings().issuer
    with database_session() as session:
        found = [idp_to_dict(row, issuer) for row in list_idps(session)]
    if as_json:
        echo_json({"idps": found})
        return
    echo_table(("slug", "name", "issuer"),
               [(str(d["slug"]), str(d["name"]), str(d["issuer"])) for d in found])


@idp.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(slug: str, as_json: bool) -> None:
    """Show a provider and the redirect_uri registered there."""
    issuer = load_settings().issuer
    with database_session() as session:
        found = find_idp(session, slug)
        if found is None:
            raise click.ClickException(f"no provider with the slug {slug!r}")
        data = idp_to_dict(found, issuer)
    _echo(data, as_json)


@idp.command("delete")
@click.argument("slug")
def delete(slug: str) -> None:
    """Remove a provider and every identity linked through it (users stay)."""
    with database_session() as session:
        found = find_idp(session, slug)
        if found is None:
            raise click.ClickException(f"no provider with the slug {slug!r}")
        session.delete(found)
    audit_admin("idp_deleted", slug=slug)
    click.echo(f"deleted provider {slug}")
