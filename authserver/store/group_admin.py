"""The operations on groups and their members, with every rule (roles: role_admin.py, whose
errors these raise too): one code path for the CLI and the administration API to come."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Group, GroupMember, GroupRole, Role, User
from .role_admin import Duplicate, NotFound, check_name, find_group, find_user, roles_by_api


@dataclass(frozen=True)
class GroupInfo:
    name: str
    created_at: int
    members: list[str] = field(default_factory=list)  # usernames, sorted
    roles: dict[str, list[str]] = field(default_factory=dict)  # audience -> role names, sorted

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "members": self.members, "roles": self.roles,
                "created_at": self.created_at}


# -- groups ------------------------------------------------------------------------------------

def create_group(session: Session, name: str) -> GroupInfo:
    check_name("group", name)
    if session.scalar(select(Group.id).where(Group.name == name)):
        raise Duplicate(f"a group named {name!r} exists already")
    group = Group(name=name)
    session.add(group)
    session.flush()
    return GroupInfo(group.name, group.created_at)


def show_group(session: Session, name: str) -> GroupInfo:
    group = find_group(session, name)
    members = session.scalars(
        select(User.username).join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id).order_by(User.username)).all()
    roles = roles_by_api(session, select(Role.audience, Role.name)
                      .join(GroupRole, GroupRole.role_id == Role.id)
                      .where(GroupRole.group_id == group.id))
    return GroupInfo(group.name, group.created_at, list(members), roles)


def list_groups(session: Session) -> list[GroupInfo]:
    return [show_group(session, name)
            for name in session.scalars(select(Group.name).order_by(Group.name))]


def delete_group(session: Session, name: str) -> None:
    """The group, its memberships and its role grants (ON DELETE CASCADE)."""
    session.delete(find_group(session, name))
    session.flush()


def add_member(session: Session, group_name: str, username: str) -> None:
    group, user = find_group(session, group_name), find_user(session, username)
    if session.get(GroupMember, (group.id, user.id)) is not None:
        raise Duplicate(f"user {username!r} is a member of {group_name!r} already")
    session.add(GroupMember(group_id=group.id, user_id=user.id))
    session.flush()


def remove_member(session: Session, group_name: str, username: str) -> None:
    group, user = find_group(session, group_name), find_user(session, username)
    member = session.get(GroupMember, (group.id, user.id))
    if member is None:
        raise NotFound(f"user {username!r} is not a member of {group_name!r}")
    session.delete(member)
    session.flush()
