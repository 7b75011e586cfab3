"""`authserver group ...`: groups of users; a role granted to a group is held by its members.
The rules live in operations/groups.py (the administration API runs them too)."""

from __future__ import annotations

import click

from ..operations import groups as operations
from ..operations.errors import OperationError
from ..operations.groups import GroupInfo
from ._common import audit_admin, database_session, date_text, echo_fields, echo_json, echo_table
from .errors import BadInput, Group


def roles_text(roles: dict[str, list[str]]) -> str:
    """{audience: [names]} as lines "AUDIENCE: a, b"."""
    return "\n".join(f"{audience}: {', '.join(names)}" for audience, names in roles.items())


def _echo(group: GroupInfo) -> None:
    echo_fields([("group", group.name), ("created", date_text(group.created_at)),
                 ("members", ", ".join(group.members)), ("roles", roles_text(group.roles))])


@click.group("group", cls=Group)
def group() -> None:
    """Groups of users; roles granted to a group are held by its members."""


@group.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(name: str, as_json: bool) -> None:
    """Create the group NAME (letters, digits and _ . : -; at most 64)."""
    with database_session() as session:
        try:
            created = operations.create_group(session, name)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("group_created", group=name)
    if as_json:
        echo_json(created.to_dict())
        return
    _echo(created)


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_groups(as_json: bool) -> None:
    """List the groups with their members and roles."""
    with database_session() as session:
        groups = operations.list_groups(session)
    if as_json:
        echo_json({"groups": [g.to_dict() for g in groups]})
        return
    echo_table(("GROUP", "MEMBERS", "ROLES"), [
        (g.name, str(len(g.members)), str(sum(len(names) for names in g.roles.values())))
        for g in groups])


@group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(name: str, as_json: bool) -> None:
    """Show a group: its members and its roles."""
    with database_session() as session:
        try:
            found = operations.show_group(session, operations.group_named(session, name))
        except OperationError as exc:
            raise BadInput(exc.message) from None
    if as_json:
        echo_json(found.to_dict())
        return
    _echo(found)


@group.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete a group, its memberships and its role grants."""
    with database_session() as session:
        try:
            operations.delete_group(session, operations.group_named(session, name))
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("group_deleted", group=name)
    click.echo(f"deleted group {name}")


@group.command("add-member")
@click.argument("group_name", metavar="GROUP")
@click.argument("username")
def add_member(group_name: str, username: str) -> None:
    """Add a user to a group."""
    with database_session() as session:
        try:
            operations.add_member(session, operations.group_named(session, group_name),
                                  username)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("group_member_added", group=group_name, username=username)
    click.echo(f"added {username} to {group_name}")


@group.command("remove-member")
@click.argument("group_name", metavar="GROUP")
@click.argument("username")
def remove_member(group_name: str, username: str) -> None:
    """Remove a user from a group (from their next token on)."""
    with database_session() as session:
        try:
            operations.remove_member(session, operations.group_named(session, group_name),
                                     username)
        except OperationError as exc:
            raise BadInput(exc.message) from None
    audit_admin("group_member_removed", group=group_name, username=username)
    click.echo(f"removed {username} from {group_name}")
