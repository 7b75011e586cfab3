"""Groups: create, rename, delete and list groups of users and their members (`authserver
group ...`, `/admin/v1/groups`); a role granted to a group (roles.py) is held by its members.
The CLI names a group by its name, the administration API by the `id` it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Group, GroupMember, GroupRole, Role, User
from ..store.role_admin import roles_by_api
from .errors import Duplicate, NotFound
from .pages import Page, page
from .roles import check_name, find_group, find_user, row_id


@dataclass(frozen=True)
class GroupInfo:
    id: str
    name: str
    created_at: int
    members: list[str] = field(default_factory=list)  # usernames, sorted
    roles: dict[str, list[str]] = field(default_factory=dict)  # audience -> role names, sorted

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "members": self.members, "roles": self.roles,
                "created_at": self.created_at}


def group_named(session: Session, name: str) -> Group:
    return find_group(session, name)


def group_by_id(session: Session, group_id: str) -> Group:
    key = row_id(group_id)
    group = session.get(Group, key) if key is not None else None
    if group is None:
        raise NotFound(f"no group with id {group_id!r}", field="id")
    return group


def _unused(session: Session, name: str) -> str:
    check_name("group", name)
    if session.scalar(select(Group.id).where(Group.name == name)):
        raise Duplicate(f"a group named {name!r} exists already", field="name")
    return name


def create_group(session: Session, name: str) -> GroupInfo:
    group = Group(name=_unused(session, name))
    session.add(group)
    session.flush()
    return GroupInfo(str(group.id), group.name, group.created_at)


def show_group(session: Session, group: Group) -> GroupInfo:
    members = session.scalars(
        select(User.username).join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id).order_by(User.username)).all()
    roles = roles_by_api(session, select(Role.audience, Role.name)
                         .join(GroupRole, GroupRole.role_id == Role.id)
                         .where(GroupRole.group_id == group.id))
    return GroupInfo(str(group.id), group.name, group.created_at, list(members), roles)


def list_groups(session: Session) -> list[GroupInfo]:
    """Every group, by name."""
    return [show_group(session, group)
            for group in session.scalars(select(Group).order_by(Group.name))]


def page_groups(session: Session, *, limit: int | None = None,
                cursor: str | None = None) -> Page:
    return page(session, select(Group), Group.id,
                lambda group: show_group(session, group).to_dict(), limit=limit, cursor=cursor)


def rename_group(session: Session, group: Group, name: str) -> GroupInfo:
    if name != group.name:
        group.name = _unused(session, name)
        session.flush()
    return show_group(session, group)


def delete_group(session: Session, group: Group) -> None:
    """The group, its memberships and its role grants (ON DELETE CASCADE)."""
    session.delete(group)
    session.flush()


def add_member(session: Session, group: Group, username: str) -> None:
    user = find_user(session, username)
    if session.get(GroupMember, (group.id, user.id)) is not None:
        raise Duplicate(f"user {username!r} is a member of {group.name!r} already", field="user")
    session.add(GroupMember(group_id=group.id, user_id=user.id))
    session.flush()


def remove_member(session: Session, group: Group, username: str) -> None:
    user = find_user(session, username)
    member = session.get(GroupMember, (group.id, user.id))
    if member is None:
        raise NotFound(f"user {username!r} is not a member of {group.name!r}", field="user")
    session.delete(member)
    session.flush()
