"""Groups: create, rename, delete and list groups of users and their members (`authserver
group ...`, `/admin/v1/groups`); a role granted to a group (roles.py) is held by its members.
The CLI names a group by its name, the administration API by the `id` it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Group, GroupMember
from ..store import Session
from ..store.role_admin import members_of_group, roles_of_group
from ..store.rows import add, by_key, every, first, remove, save
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
    group = by_key(session, Group, key) if key is not None else None
    if group is None:
        raise NotFound(f"no group with id {group_id!r}", field="id")
    return group


def _unused(session: Session, name: str) -> str:
    check_name("group", name)
    if first(session, Group, name=name) is not None:
        raise Duplicate(f"a group named {name!r} exists already", field="name")
    return name


def create_group(session: Session, name: str) -> GroupInfo:
    group = add(session, Group(name=_unused(session, name)))
    return GroupInfo(str(group.id), group.name, group.created_at)


def show_group(session: Session, group: Group) -> GroupInfo:
    return GroupInfo(str(group.id), group.name, group.created_at,
                     members_of_group(session, group), roles_of_group(session, group))


def list_groups(session: Session) -> list[GroupInfo]:
    """Every group, by name."""
    return [show_group(session, group)
            for group in every(session, Group, "name")]


def page_groups(session: Session, *, limit: int | None = None,
                cursor: str | None = None) -> Page:
    return page(session, Group, lambda group: show_group(session, group).to_dict(),
                limit=limit, cursor=cursor)


def rename_group(session: Session, group: Group, name: str) -> GroupInfo:
    if name != group.name:
        group.name = _unused(session, name)
        save(session)
    return show_group(session, group)


def delete_group(session: Session, group: Group) -> None:
    """The group, its memberships and its role grants (ON DELETE CASCADE)."""
    remove(session, group)


def add_member(session: Session, group: Group, username: str) -> None:
    user = find_user(session, username)
    if by_key(session, GroupMember, (group.id, user.id)) is not None:
        raise Duplicate(f"user {username!r} is a member of {group.name!r} already", field="user")
    add(session, GroupMember(group_id=group.id, user_id=user.id))


def remove_member(session: Session, group: Group, username: str) -> None:
    user = find_user(session, username)
    member = by_key(session, GroupMember, (group.id, user.id))
    if member is None:
        raise NotFound(f"user {username!r} is not a member of {group.name!r}", field="user")
    remove(session, member)
