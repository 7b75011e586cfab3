"""Roles: create, rename, delete and list the roles of each API, and grant them to users,
groups and clients (`authserver role ...`, `/admin/v1/roles`). Groups are groups.py.

Every rule is here, once: a name outside the pattern, a duplicate, or an unknown API, role,
user, group or client is refused (BadInput, Duplicate, NotFound naming the field) before
anything is added or deleted. The CLI names a role by its API's audience and its name; the
administration API by the `id` it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..models import Client, ClientRole, Group, GroupRole, Role, User, UserRole
from ..store import Session
from ..store.apis import ApiRegistry
from ..store.clients import find_client as find_client_by_id
from ..store.role_admin import holders_of_role
from ..store.rows import add, by_key, every, first, remove, save
from ..store.users import find_user as find_user_named
from .errors import BadInput, Duplicate, NotFound
from .pages import Page, page

# fullmatch, not match with "$": "$" also matches before a trailing newline.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_DESCRIPTION = 200
HOLDERS = ("user", "group", "client")


@dataclass(frozen=True)
class RoleInfo:
    id: str
    audience: str
    name: str
    description: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "audience": self.audience, "name": self.name,
                "description": self.description, "created_at": self.created_at}


def info(role: Role) -> RoleInfo:
    return RoleInfo(str(role.id), role.audience, role.name, role.description, role.created_at)


def check_name(kind: str, name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise BadInput(f"{kind} name {name!r} must be 1-64 characters of letters, digits "
                       "and _ . : -", field="name")
    return name


def _description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION or not description.isprintable():
        raise BadInput(f"the description must be printable text of at most {MAX_DESCRIPTION} "
                       "characters", field="description")
    return description.strip()


def row_id(text: str) -> int | None:
    """A row's key from an id the administration API gave (None: it gave no such id)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


# -- finding -----------------------------------------------------------------------------------

def known_api(registry: ApiRegistry, audience: str) -> str:
    if audience not in registry.apis:
        raise NotFound(f"no API with audience {audience!r}", field="audience")
    return audience


def role_named(session: Session, registry: ApiRegistry, audience: str, name: str) -> Role:
    known_api(registry, audience)
    role = first(session, Role, audience=audience, name=name)
    if role is None:
        raise NotFound(f"the API {audience!r} has no role {name!r}", field="name")
    return role


def role_by_id(session: Session, role_id: str) -> Role:
    key = row_id(role_id)
    role = by_key(session, Role, key) if key is not None else None
    if role is None:
        raise NotFound(f"no role with id {role_id!r}", field="id")
    return role


def find_user(session: Session, username: str) -> User:
    # NUL never reaches the database (PostgreSQL refuses it in text): no user has it.
    found = find_user_named(session, username) if "\x00" not in username else None
    if found is None:
        raise NotFound(f"no user named {username!r}", field="user")
    return found


def find_group(session: Session, name: str) -> Group:
    found = first(session, Group, name=name) if "\x00" not in name else None
    if found is None:
        raise NotFound(f"no group named {name!r}", field="group")
    return found


def find_client(session: Session, client_id: str) -> Client:
    found = find_client_by_id(session, client_id) if "\x00" not in client_id else None
    if found is None:
        raise NotFound(f"no client with client_id {client_id!r}", field="client")
    return found


# -- roles -------------------------------------------------------------------------------------

def create_role(session: Session, registry: ApiRegistry, audience: str, name: str,
                description: str = "") -> RoleInfo:
    known_api(registry, audience)
    check_name("role", name)
    description = _description(description)
    if first(session, Role, audience=audience, name=name) is not None:
        raise Duplicate(f"the API {audience!r} has a role {name!r} already", field="name")
    return info(add(session, Role(audience=audience, name=name, description=description)))


def _of_api(registry: ApiRegistry, audience: str | None) -> dict[str, str]:
    """The column values that narrow a list to one API's roles (none: every API's)."""
    return {} if audience is None else {"audience": known_api(registry, audience)}


def list_roles(session: Session, registry: ApiRegistry, audience: str | None = None
               ) -> list[RoleInfo]:
    """Every role (of one API), by API and name."""
    return [info(role) for role in every(session, Role, "audience", "name",
                                         **_of_api(registry, audience))]


def page_roles(session: Session, registry: ApiRegistry, *, audience: str | None = None,
               limit: int | None = None, cursor: str | None = None) -> Page:
    return page(session, Role, lambda role: info(role).to_dict(), limit=limit, cursor=cursor,
                **_of_api(registry, audience))


def show_role(session: Session, role: Role) -> dict[str, Any]:
    """The role and who holds it directly: {"grants": {"users", "groups", "clients"}}."""
    return {**info(role).to_dict(), "grants": holders_of_role(session, role)}


def update_role(session: Session, role: Role, *, name: str | None = None,
                description: str | None = None) -> RoleInfo:
    """Rename (unique within its API) or describe anew; tokens issued before keep the old
    name until they expire."""
    if name is not None and name != role.name:
        check_name("role", name)
        if first(session, Role, audience=role.audience, name=name) is not None:
            raise Duplicate(f"the API {role.audience!r} has a role {name!r} already",
                            field="name")
    if description is not None:
        role.description = _description(description)
    if name is not None:
        role.name = name
    save(session)
    return info(role)


def delete_role(session: Session, role: Role) -> None:
    """The role and every grant of it (ON DELETE CASCADE), in the caller's transaction."""
    remove(session, role)


# -- grants ------------------------------------------------------------------------------------

def one_holder(**given: str | None) -> tuple[str, str]:
    """The one holder of user, group or client that is given."""
    named = [(kind, value) for kind, value in given.items() if value is not None]
    if len(named) != 1 or named[0][0] not in HOLDERS:
        raise BadInput("give exactly one of user, group or client", field="user")
    return named[0]


def _grant_row(session: Session, role: Role, holder: str, value: str
               ) -> tuple[UserRole | GroupRole | ClientRole, tuple[int, int], str]:
    """The grant row that would say `holder` `value` holds `role` (not added), its key, and
    how to name the holder in a message."""
    if holder == "user":
        user_id = find_user(session, value).id
        return UserRole(user_id=user_id, role_id=role.id), (user_id, role.id), f"user {value!r}"
    if holder == "group":
        group_id = find_group(session, value).id
        return (GroupRole(group_id=group_id, role_id=role.id), (group_id, role.id),
                f"group {value!r}")
    client_id = find_client(session, value).id
    return (ClientRole(client_id=client_id, role_id=role.id), (client_id, role.id),
            f"client {value!r}")


def grant(session: Session, role: Role, holder: str, value: str) -> str:
    """Grant the role to one holder ("user", "group" or "client"); returns the holder as a
    message names it."""
    row, key, named = _grant_row(session, role, holder, value)
    if by_key(session, type(row), key) is not None:
        raise Duplicate(f"{named} holds the role {role.name!r} of {role.audience!r} already",
                        field=holder)
    add(session, row)
    return named


def revoke(session: Session, role: Role, holder: str, value: str) -> str:
    """Take the role back from one holder (a direct grant: a user who holds it through a group
    keeps it until the group loses it or the user leaves the group)."""
    row, key, named = _grant_row(session, role, holder, value)
    existing = by_key(session, type(row), key)
    if existing is None:
        raise NotFound(f"{named} has no grant of the role {role.name!r} of {role.audience!r}",
                       field=holder)
    remove(session, existing)
    return named
