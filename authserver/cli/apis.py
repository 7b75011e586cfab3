"""`authserver api ...`: the operator's own APIs (resource servers, RFC 8707)."""

from __future__ import annotations

import click

from ..operations import apis as operations
from ..operations.errors import NotFound, OperationError
from ..policy import SIGNING_ALGS
from ..store import Session
from ..store.apis import ApiInfo, ApiRegistry
from ._common import api_registry, audit_admin, database_session, echo_json, echo_table, load_settings
from .errors import BadInput, Group


def _registry(session: Session) -> ApiRegistry:
    return api_registry(session)


def _echo(api: ApiInfo) -> None:
    ttl = api.access_token_ttl if api.access_token_ttl is not None else "(server default)"
    built_in = "  (built in, default)" if api.audience == load_settings().api_audience else (
        "  (built in)" if api.built_in else "")
    click.echo(f"audience:          {api.audience}{built_in}")
    click.echo(f"name:              {api.name}")
    click.echo(f"access_token_ttl:  {ttl}")
    click.echo(f"signing_alg:       {api.signing_alg or '(server default)'}")
    for scope in api.scopes:
        click.echo(f"scope:             {scope.name}  {scope.description}")


@click.group("api", cls=Group)
def api() -> None:
    """Register the APIs (resource servers) tokens are issued for."""


@api.command("create")
@click.option("--audience", required=True,
              help="The API's identifier, an absolute https URI (http on loopback): the `aud` "
                   "of its tokens and the `resource` clients ask for.")
@click.option("--name", required=True, help="Shown on the consent page.")
@click.option("--scope", "scopes", multiple=True, required=True,
              help='A scope it owns, "NAME" or "NAME=DESCRIPTION" (repeatable).')
@click.option("--access-token-ttl", type=int, default=None,
              help="Seconds its access tokens live (default: AUTHSERVER_ACCESS_TOKEN_TTL).")
@click.option("--signing-alg", type=click.Choice(SIGNING_ALGS), default=None,
              help="The algorithm of its access tokens, one of AUTHSERVER_SIGNING_ALGS "
                   "(default: the first of them).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(audience: str, name: str, scopes: tuple[str, ...], access_token_ttl: int | None,
           signing_alg: str | None, as_json: bool) -> None:
    """Register an API. Its scopes are then accepted by `client create --scope`."""
    with database_session() as session:
        try:
            created = operations.create_api(session, _registry(session), audience=audience, name=name,
                                 scopes=list(scopes), access_token_ttl=access_token_ttl,
                                 signing_alg=signing_alg,
                                 signing_algs=load_settings().signing_algs)
        except OperationError as exc:
            raise click.UsageError(exc.message) from None
    audit_admin("api_created", audience=created.audience,
                scopes=[s.name for s in created.scopes])
    if as_json:
        echo_json(created.to_dict())
        return
    _echo(created)


@api.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_apis(as_json: bool) -> None:
    """List the APIs, the built-in sample API first, then the administration API."""
    with database_session() as session:
        registry = _registry(session)
    apis = operations.every_api(registry)
    if as_json:
        echo_json({"apis": [a.to_dict() for a in apis]})
        return
    echo_table(("audience", "name", "scopes", "access token ttl"),
               [(found.audience, found.name, " ".join(s.name for s in found.scopes),
                 "(server default)" if found.access_token_ttl is None
                 else f"{found.access_token_ttl} s") for found in apis])


@api.command("show")
@click.argument("audience")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(audience: str, as_json: bool) -> None:
    """Show one API."""
    with database_session() as session:
        try:
            found = operations.show_api(session, _registry(session), audience)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    if as_json:
        echo_json(found.to_dict())
        return
    _echo(found)


@api.command("update")
@click.argument("audience")
@click.option("--name", default=None, help="A new name.")
@click.option("--add-scope", "add_scopes", multiple=True,
              help='A scope to add, or to describe anew: "NAME[=DESCRIPTION]" (repeatable).')
@click.option("--remove-scope", "remove_scopes", multiple=True,
              help="A scope to remove; it leaves every client's registration (repeatable).")
@click.option("--access-token-ttl", type=int, default=None,
              help="Seconds its access tokens live; 0 returns to the server's default.")
@click.option("--signing-alg", type=click.Choice([*SIGNING_ALGS, "default"]), default=None,
              help="The algorithm of its access tokens (one of AUTHSERVER_SIGNING_ALGS); "
                   "'default' returns to the server's default.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def update(audience: str, name: str | None, add_scopes: tuple[str, ...],
           remove_scopes: tuple[str, ...], access_token_ttl: int | None,
           signing_alg: str | None, as_json: bool) -> None:
    """Change an API, in one transaction; every worker follows from its next request."""
    with database_session() as session:
        try:
            changed_api, changed = operations.update_api(
                session, _registry(session), audience, name=name, add_scopes=list(add_scopes),
                remove_scopes=list(remove_scopes), access_token_ttl=access_token_ttl,
                signing_alg=signing_alg, signing_algs=load_settings().signing_algs)
        except NotFound as exc:
            raise BadInput(exc.message) from None
        except OperationError as exc:
            raise click.UsageError(exc.message) from None
    audit_admin("api_updated", audience=audience, added=list(add_scopes),
                removed=list(remove_scopes), clients_changed=changed)
    if as_json:
        echo_json(changed_api.to_dict())
        return
    _echo(changed_api)


@api.command("delete")
@click.argument("audience")
def delete(audience: str) -> None:
    """Delete an API: tokens for it are no longer issued, and its scopes leave every client.
    Its access tokens already issued stay valid until they expire."""
    with database_session() as session:
        try:
            changed = operations.delete_api(session, _registry(session), audience)
        except NotFound as exc:
            raise BadInput(exc.message) from None
        except OperationError as exc:
            raise click.UsageError(exc.message) from None
    audit_admin("api_deleted", audience=audience, clients_changed=changed)
    click.echo(f"deleted API {audience}" + (f" (its scopes left {len(changed)} clients)"
                                            if changed else ""))
