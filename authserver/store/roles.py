"""What the token path reads of roles and groups: a user's roles of one API (held directly or
through a group) and their groups in ONE query, and a client's roles of one API.

A user's roles are read afresh for every token (a refresh included), so a grant or a revocation
holds from the next token on every worker and host. Two things are kept per worker, trusted
only while `clients_version` is unchanged (every change to a role or to a client's role grant
moves it, models._bump_clients_version; the client cache reads that number on each token
request anyway): which APIs have roles at all (a token for an API without roles costs no
query), and the clients' roles (a client_credentials token costs no query either).

Written by hand: no library carries RFC 9068 §2.2.3.1 roles over SQLAlchemy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, literal, select, union

from ..models import ClientRole, Group, GroupMember, GroupRole, Role, UserRole

if TYPE_CHECKING:
    from . import Store

_roles, _groups = Role.__table__, Group.__table__
_members, _user_roles = GroupMember.__table__, UserRole.__table__
_group_roles, _client_roles = GroupRole.__table__, ClientRole.__table__
ROLE, GROUP = "r", "g"

_DIRECT = (select(literal(ROLE).label("kind"), _roles.c.name)
           .join(_user_roles, _user_roles.c.role_id == _roles.c.id)
           .where(_user_roles.c.user_id == bindparam("user_id"),
                  _roles.c.audience == bindparam("audience")))
_THROUGH_GROUPS = (select(literal(ROLE).label("kind"), _roles.c.name)
                   .join(_group_roles, _group_roles.c.role_id == _roles.c.id)
                   .join(_members, _members.c.group_id == _group_roles.c.group_id)
                   .where(_members.c.user_id == bindparam("user_id"),
                          _roles.c.audience == bindparam("audience")))
_GROUPS = (select(literal(GROUP).label("kind"), _groups.c.name)
           .join(_members, _members.c.group_id == _groups.c.id)
           .where(_members.c.user_id == bindparam("user_id")))
# One round trip whatever the number of roles and groups (UNION also drops a role held twice).
USER_ROLES = union(_DIRECT, _THROUGH_GROUPS)
USER_ROLES_AND_GROUPS = union(_DIRECT, _THROUGH_GROUPS, _GROUPS)
CLIENT_ROLES = (select(_roles.c.name)
                .join(_client_roles, _client_roles.c.role_id == _roles.c.id)
                .where(_client_roles.c.client_id == bindparam("client_pk"),
                       _roles.c.audience == bindparam("audience")))
AUDIENCES_WITH_ROLES = select(_roles.c.audience).distinct()
# Bounds memory when clients are many; the clients' roles are reloaded from scratch when full.
MAX_CLIENT_ENTRIES = 10_000


@dataclass(frozen=True)
class Holdings:
    """What a token for a user carries: roles (sorted; empty when none) and, when the `groups`
    scope was granted, the user's groups (sorted), else None."""

    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None


@dataclass
class _Snapshot:
    version: int
    audiences: frozenset[str]  # the APIs that have roles
    clients: dict[tuple[int, str], tuple[str, ...]] = field(default_factory=dict)


class Roles:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def for_user(self, user_id: int, audience: str, *, with_groups: bool) -> Holdings:
        """The user's roles of the API `audience` and, `with_groups`, their groups."""
        if not self._has_roles(audience):
            return Holdings(groups=self.groups_of(user_id) if with_groups else None)
        rows = self._connection().execute(
            USER_ROLES_AND_GROUPS if with_groups else USER_ROLES,
            {"user_id": user_id, "audience": audience}).all()
        roles = tuple(sorted(name for kind, name in rows if kind == ROLE))
        groups = tuple(sorted(name for kind, name in rows if kind == GROUP))
        return Holdings(roles=roles, groups=groups if with_groups else None)

    def groups_of(self, user_id: int) -> tuple[str, ...]:
        rows = self._connection().execute(_GROUPS, {"user_id": user_id}).all()
        return tuple(sorted(name for _, name in rows))

    def for_client(self, client_pk: int, audience: str) -> tuple[str, ...]:
        """The roles of the API `audience` the client itself holds (client_credentials)."""
        snapshot = self._current()
        if snapshot is not None and audience not in snapshot.audiences:
            return ()
        key = (client_pk, audience)
        if snapshot is not None and key in snapshot.clients:
            return snapshot.clients[key]
        keep = snapshot is not None and self.store.sees_version(snapshot.version)  # (_current)
        names = self._connection().execute(
            CLIENT_ROLES, {"client_pk": client_pk, "audience": audience}).scalars().all()
        roles = tuple(sorted(names))
        if snapshot is not None and keep:
            if len(snapshot.clients) >= MAX_CLIENT_ENTRIES:
                snapshot.clients.clear()
            snapshot.clients[key] = roles
        return roles

    def _connection(self) -> Connection:
        # Core, not ORM: this runs on every token for a user, and the ORM's statement handling
        # cost more than the query (as for the client lookup, store/clients.py).
        return self.store.session().connection()

    def _has_roles(self, audience: str) -> bool:
        snapshot = self._current()
        return snapshot is None or audience in snapshot.audiences

    def _current(self) -> _Snapshot | None:
        """This worker's snapshot for the clients version now (None: the version could not
        be read, so nothing is trusted and everything is read from the database)."""
        version = self.store.clients.cache.version_now()
        if version is None:
            return None
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        # Kept only when the request's snapshot holds at least this version (at worst newer
        # than the version says, never older: a change moves the version, and the next
        # request then loads again); an older snapshot's answer serves this request alone.
        keep = self.store.sees_version(version)
        audiences = frozenset(self._connection().execute(AUDIENCES_WITH_ROLES).scalars().all())
        snapshot = _Snapshot(version, audiences)
        if keep:
            with self._lock:
                self._snapshot = snapshot
        return snapshot
