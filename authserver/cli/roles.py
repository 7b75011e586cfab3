"""`authserver role ...`: the roles of each API and who holds them. The rules live in
operations/roles.py (the administration API runs them too); here only options and output."""

from __future__ import annotations

import click

from ..operations import roles as operations
from ..operations.errors import OperationError
from ._common import (
    api_registry,
    audit_admin,
    database_session,
    date_text,
    echo_fields,
    echo_json,
    echo_table,
)
from .errors import BadInput, Group

API_HELP = "The API's audience (`authserver api list`)."


@click.group("role", cls=Group)
def role() -> None:
    """Roles of your APIs, granted to users, groups and clients; carried in access tokens."""


def _holder_options(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--api", "audience", required=True, help=API_HELP),
        click.argument("name"),
        click.option("--user", default=None, help="A user (username)."),
        click.option("--group", default=None, help="A group: every member holds the role."),
        click.option("--client", default=None,
                     help="A client (client_id): its client_credentials tokens carry the role."),
    ]):
        command = option(command)
    return command


def _holder(user: str | None, group: str | None, client: str | None) -> tuple[str, str]:
    try:
        return operations.one_holder(user=user, group=group, client=client)
    except OperationError:
        raise BadInput("give exactly one of --user, --group or --client") from None


@role.command("create")
@click.option("--api", "audience", required=True, help=API_HELP)
@click.argument("name")
@click.option("--description", default="", help="What the role allows (for operators).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(audience: str, name: str, description: str, as_json: bool) -> None:
    """Create the role NAME of an API (letters, digits and _ . : -; at most 64)."""
    with database_session() as session:
        try:
            created = operations.create_role(session, api_registry(session), audience, name,
                                             description)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("role_created", audience=audience, role=name)
    if as_json:
        echo_json(created.to_dict())
        return
    echo_fields([("api", created.audience), ("role", created.name),
                 ("description", created.description), ("created", date_text(created.created_at))])


@role.command("list")
@click.option("--api", "audience", default=None, help="Only this API's roles.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_roles(audience: str | None, as_json: bool) -> None:
    """List the roles, by API."""
    with database_session() as session:
        try:
            roles = operations.list_roles(session, api_registry(session), audience)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    if as_json:
        echo_json({"roles": [r.to_dict() for r in roles]})
        return
    echo_table(("API", "ROLE", "DESCRIPTION"), [(r.audience, r.name, r.description) for r in roles])


@role.command("delete")
@click.option("--api", "audience", required=True, help=API_HELP)
@click.argument("name")
def delete(audience: str, name: str) -> None:
    """Delete a role and every grant of it. Tokens already issued keep it until they expire."""
    with database_session() as session:
        try:
            operations.delete_role(session, operations.role_named(
                session, api_registry(session), audience, name))
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("role_deleted", audience=audience, role=name)
    click.echo(f"deleted role {name} of {audience}")


@role.command("grant")
@_holder_options
def grant(audience: str, name: str, user: str | None, group: str | None,
          client: str | None) -> None:
    """Grant a role to one user, group or client (from its next token on)."""
    given = _holder(user, group, client)
    with database_session() as session:
        try:
            holder = operations.grant(session, operations.role_named(
                session, api_registry(session), audience, name), *given)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("role_granted", audience=audience, role=name, user=user, group=group,
                client_id=client)
    click.echo(f"granted role {name} of {audience} to {holder}")


@role.command("revoke")
@_holder_options
def revoke(audience: str, name: str, user: str | None, group: str | None,
           client: str | None) -> None:
    """Take a role back from one user, group or client (from its next token on; tokens
    already issued keep it until they expire)."""
    given = _holder(user, group, client)
    with database_session() as session:
        try:
            holder = operations.revoke(session, operations.role_named(
                session, api_registry(session), audience, name), *given)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("role_revoked", audience=audience, role=name, user=user, group=group,
                client_id=client)
    click.echo(f"revoked role {name} of {audience} from {holder}")
