"""Who holds which roles and groups: what a user's or a client's tokens carry, and a group's
roles by API. The rules that change roles and groups are operations/roles.py and groups.py.
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
