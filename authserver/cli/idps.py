"""`authserver idp ...`: the other OpenID providers people may sign in with (federation)."""

from __future__ import annotations

from typing import Any

import click

from ..oauth.upstream import UpstreamError, read_discovery
from ..operations import idps as operations
from ..operations.errors import NotFound, OperationError
from ._common import (
    audit_admin,
    database_session,
    echo_fields,
    echo_json,
    echo_table,
    load_settings,
    read_password_stdin,
)
from .errors import BadInput, Group


@click.group("idp", cls=Group)
def idp() -> None:
    """Other OpenID providers to sign in with (Google, Entra ID, Keycloak, another authserver)."""


def _echo(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        echo_json(data)
        return
    echo_fields([(name, str(value)) for name, value in data.items() if name != "id"])


def discoverer(timeout: float) -> operations.Discover:
    """The protocol's discovery reader, its failure as the operations' (exit 1 here)."""
    def discover(issuer: str) -> dict[str, Any]:
        try:
            return read_discovery(issuer, timeout)
        except UpstreamError as exc:
            raise operations.DiscoveryFailed(str(exc), field="issuer") from None
    return discover


def _run(operation):  # type: ignore[no-untyped-def]
    """Refusals as exit 2; a provider that cannot be read, or an unknown slug, as exit 1."""
    try:
        return operation()
    except (operations.DiscoveryFailed, NotFound) as exc:
        raise click.ClickException(exc.message) from None
    except OperationError as exc:
        raise BadInput(exc.message) from None


@idp.command("create")
@click.option("--name", required=True, help="Shown on the login page: \"Sign in with NAME\".")
@click.option("--issuer", required=True, help="The provider's issuer URL (its discovery is read).")
@click.option("--client-id", required=True, help="This server's client_id at the provider.")
@click.option("--client-secret-stdin", is_flag=True, required=True,
              help="Read the client secret as one line from standard input (required).")
@click.option("--slug", default=None, help="In the URLs (default: from the name).")
@click.option("--scope", default=operations.DEFAULT_SCOPE, show_default=True)
@click.option("--link-by-email", is_flag=True,
              help="Sign in as the local user with the same verified email, when the provider "
                   "says the email is verified.")
@click.option("--no-create-users", is_flag=True,
              help="Never create a local user for an identity not linked yet.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(name: str, issuer: str, client_id: str, client_secret_stdin: bool, slug: str | None,
           scope: str, link_by_email: bool, no_create_users: bool, as_json: bool) -> None:
    """Add a provider; prints the redirect_uri to register there."""
    _run(lambda: operations.check_issuer(issuer))  # before the secret is asked for
    secret = read_password_stdin()
    settings = load_settings()
    with database_session() as session:
        new = _run(lambda: operations.prepare_provider(
            session, discoverer(settings.upstream_timeout), name=name, issuer=issuer,
            client_id=client_id, client_secret=secret, slug=slug, scope=scope,
            link_by_email=link_by_email, create_users=not no_create_users))
        data = _run(lambda: operations.add_provider(session, settings, new))
    audit_admin("idp_created", slug=data["slug"], issuer=issuer)
    _echo(data, as_json)


@idp.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(as_json: bool) -> None:
    """List the providers."""
    settings = load_settings()
    with database_session() as session:
        found = operations.every_provider(session, settings)
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
    settings = load_settings()
    with database_session() as session:
        data = _run(lambda: operations.show_provider(session, settings, slug))
    _echo(data, as_json)


@idp.command("update")
@click.argument("slug")
@click.option("--name", default=None, help="Shown on the login page: \"Sign in with NAME\".")
@click.option("--scope", default=None, help="The scope asked of the provider (with openid).")
@click.option("--link-by-email/--no-link-by-email", default=None,
              help="Sign in as the local user with the same verified email (or not).")
@click.option("--create-users/--no-create-users", default=None,
              help="Create a local user for an identity not linked yet (or not).")
@click.option("--client-secret-stdin", is_flag=True,
              help="Read a new client secret as one line from standard input.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def update(slug: str, name: str | None, scope: str | None, link_by_email: bool | None,
           create_users: bool | None, client_secret_stdin: bool, as_json: bool) -> None:
    """Change a provider (not its slug or issuer: remove it and add it again for those)."""
    given = {"name": name, "scope": scope, "link_by_email": link_by_email,
             "create_users": create_users}
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if client_secret_stdin:
        changes["client_secret"] = read_password_stdin("client secret")
    settings = load_settings()
    with database_session() as session:
        data = _run(lambda: operations.update_provider(session, settings, slug, changes))
    audit_admin("idp_updated", slug=slug, changed=sorted(changes))
    _echo(data, as_json)


@idp.command("delete")
@click.argument("slug")
def delete(slug: str) -> None:
    """Remove a provider and every identity linked through it (users stay)."""
    with database_session() as session:
        _run(lambda: operations.delete_provider(session, slug))
    audit_admin("idp_deleted", slug=slug)
    click.echo(f"deleted provider {slug}")
