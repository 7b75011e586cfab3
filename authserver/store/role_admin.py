"""Who holds which roles and groups: what a user's or a client's tokens carry, a group's
members and roles by API, a role's holders. The rules that change roles and groups are
operations/roles.py and groups.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Client, ClientRole, Group, GroupMember, GroupRole, Role, User, UserRole

# -- a user's share ----------------------------------------------------------------------------

def roles_by_api(session: Session, query: Any) -> dict[str, list[str]]:
    """(audience, name) rows as {audience: [names]}, both sorted."""
    roles: dict[str, list[str]] = {}
    for audience, name in session.execute(query.order_by(Role.audience, Role.name)):
        roles.setdefault(audience, []).append(name)
    return roles


def holdings_of_user(session: Session, user: User) -> tuple[list[str], dict[str, list[str]]]:
    """The user's groups (names, sorted) and roles of every API ({audience: names}), held
    directly or through a group: what their tokens carry."""
    groups = session.scalars(
        select(Group.name).join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id).order_by(Group.name)).all()
    direct = (select(Role.audience, Role.name).join(UserRole, UserRole.role_id == Role.id)
              .where(UserRole.user_id == user.id))
    through = (select(Role.audience, Role.name).join(GroupRole, GroupRole.role_id == Role.id)
               .join(GroupMember, GroupMember.group_id == GroupRole.group_id)
               .where(GroupMember.user_id == user.id))
    roles: dict[str, list[str]] = {}
    for audience, name in sorted(set(session.execute(direct).all())
                                 | set(session.execute(through).all())):
        roles.setdefault(audience, []).append(name)
    return list(groups), roles


def holdings_of_client(session: Session, client: Client) -> dict[str, list[str]]:
    return roles_by_api(session, select(Role.audience, Role.name)
                     .join(ClientRole, ClientRole.role_id == Role.id)
                     .where(ClientRole.client_id == client.id))


# -- a group's and a role's ---------------------------------------------------------------------

def members_of_group(session: Session, group: Group) -> list[str]:
    """The group's members' usernames, sorted."""
    return list(session.scalars(
        select(User.username).join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id).order_by(User.username)).all())


def roles_of_group(session: Session, group: Group) -> dict[str, list[str]]:
    return roles_by_api(session, select(Role.audience, Role.name)
                        .join(GroupRole, GroupRole.role_id == Role.id)
                        .where(GroupRole.group_id == group.id))


def holders_of_role(session: Session, role: Role) -> dict[str, list[str]]:
    """Who holds the role directly: {"users", "groups", "clients"}, each sorted."""
    def names(column: Any, grant: Any, holder_key: Any, holder: Any) -> list[str]:
        return list(session.scalars(select(column).join(grant, holder_key == holder.id)
                                    .where(grant.role_id == role.id).order_by(column)))
    return {"users": names(User.username, UserRole, UserRole.user_id, User),
            "groups": names(Group.name, GroupRole, GroupRole.group_id, Group),
            "clients": names(Client.client_id, ClientRole, ClientRole.client_id, Client)}
