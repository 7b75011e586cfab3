"""The operations on roles and their grants, with every rule (groups: group_admin.py): one
code path for the CLI and the administration API to come. Each takes the session of the
caller's transaction and writes nothing when it refuses (it checks everything before it adds
or deletes anything).

Refusals are `RoleError`s whose message names what is wrong; the subclass says which kind, so
an HTTP front end can answer 400 (`InvalidName`, `RoleError`), 404 (`NotFound`) or 409
(`Duplicate`) while the CLI exits 2 for all of them (INTERFACE.md "Precisions (turn 3)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Client, ClientRole, Group, GroupMember, GroupRole, Role, User, UserRole
from .apis import ApiRegistry

# fullmatch, not match with "$": "$" also matches before a trailing newline.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_DESCRIPTION = 200


class RoleError(ValueError):
    """Bad input to a role or group operation; the message names it."""


class InvalidName(RoleError):
    pass


class NotFound(RoleError):
    pass


class Duplicate(RoleError):
    pass


@dataclass(frozen=True)
class RoleInfo:
    audience: str
    name: str
    description: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"audience": self.audience, "name": self.name, "description": self.description,
                "created_at": self.created_at}


def check_name(kind: str, name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidName(f"{kind} name {name!r} must be 1-64 characters of letters, digits "
                          "and _ . : -")
    return name


def _info(role: Role) -> RoleInfo:
    return RoleInfo(role.audience, role.name, role.description, role.created_at)


def _api(registry: ApiRegistry, audience: str) -> str:
    if audience not in registry.apis:
        raise NotFound(f"no API with audience {audience!r}")
    return audience


def _role(session: Session, registry: ApiRegistry, audience: str, name: str) -> Role:
    _api(registry, audience)
    role = session.scalar(select(Role).where(Role.audience == audience, Role.name == name))
    if role is None:
        raise NotFound(f"the API {audience!r} has no role {name!r}")
    return role


def find_user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise NotFound(f"no user named {username!r}")
    return found


def find_group(session: Session, name: str) -> Group:
    found = session.scalar(select(Group).where(Group.name == name))
    if found is None:
        raise NotFound(f"no group named {name!r}")
    return found


def _client(session: Session, client_id: str) -> Client:
    found = session.scalar(select(Client).where(Client.client_id == client_id))
    if found is None:
        raise NotFound(f"no client with client_id {client_id!r}")
    return found


# -- roles -------------------------------------------------------------------------------------

def create_role(session: Session, registry: ApiRegistry, audience: str, name: str,
                description: str = "") -> RoleInfo:
    _api(registry, audience)
    check_name("role", name)
    if len(description) > MAX_DESCRIPTION or not description.isprintable():
        raise RoleError(f"the description must be printable text of at most {MAX_DESCRIPTION} "
                        "characters")
    if session.scalar(select(Role.id).where(Role.audience == audience, Role.name == name)):
        raise Duplicate(f"the API {audience!r} has a role {name!r} already")
    role = Role(audience=audience, name=name, description=description.strip())
    session.add(role)
    session.flush()
    return _info(role)


def list_roles(session: Session, registry: ApiRegistry, audience: str | None = None
               ) -> list[RoleInfo]:
    query = select(Role).order_by(Role.audience, Role.name)
    if audience is not None:
        query = query.where(Role.audience == _api(registry, audience))
    return [_info(role) for role in session.scalars(query)]


def delete_role(session: Session, registry: ApiRegistry, audience: str, name: str) -> None:
    """The role and every grant of it (ON DELETE CASCADE), in the caller's transaction."""
    session.delete(_role(session, registry, audience, name))
    session.flush()


_HOLDERS = ("user", "group", "client")


def _grant_row(session: Session, role: Role, holder: str, value: str
               ) -> tuple[UserRole | GroupRole | ClientRole, type[Any], str]:
    """The grant row that would say `holder` `value` holds `role` (not added), its class, and
    how to name the holder in a message."""
    if holder == "user":
        return UserRole(user_id=find_user(session, value).id, role_id=role.id), UserRole, \
            f"user {value!r}"
    if holder == "group":
        return GroupRole(group_id=find_group(session, value).id, role_id=role.id), GroupRole, \
            f"group {value!r}"
    return ClientRole(client_id=_client(session, value).id, role_id=role.id), ClientRole, \
        f"client {value!r}"


def _holder(user: str | None, group: str | None, client: str | None) -> tuple[str, str]:
    given = [(kind, value) for kind, value in zip(_HOLDERS, (user, group, client), strict=True)
             if value is not None]
    if len(given) != 1:
        raise RoleError("give exactly one of --user, --group or --client")
    return given[0]


def grant_role(session: Session, registry: ApiRegistry, audience: str, name: str, *,
               user: str | None = None, group: str | None = None,
               client: str | None = None) -> str:
    """Grant the role to one holder; returns the holder as a message names it."""
    holder, value = _holder(user, group, client)
    role = _role(session, registry, audience, name)
    row, cls, named = _grant_row(session, role, holder, value)
    if session.get(cls, _key(row)) is not None:
        raise Duplicate(f"{named} holds the role {name!r} of {audience!r} already")
    session.add(row)
    session.flush()
    return named


def revoke_role(session: Session, registry: ApiRegistry, audience: str, name: str, *,
                user: str | None = None, group: str | None = None,
                client: str | None = None) -> str:
    """Take the role back from one holder (a direct grant: a user who holds it through a group
    keeps it until the group loses it or the user leaves the group)."""
    holder, value = _holder(user, group, client)
    role = _role(session, registry, audience, name)
    row, cls, named = _grant_row(session, role, holder, value)
    existing = session.get(cls, _key(row))
    if existing is None:
        raise NotFound(f"{named} has no grant of the role {name!r} of {audience!r}")
    session.delete(existing)
    session.flush()
    return named


def _key(row: UserRole | GroupRole | ClientRole) -> tuple[int, int]:
    if isinstance(row, UserRole):
        return row.user_id, row.role_id
    if isinstance(row, GroupRole):
        return row.group_id, row.role_id
    return row.client_id, row.role_id


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
