"""The store: every SQL statement and transaction edge of a request lives below this package.

`Store` is the request's unit of work over the scoped session. Protocol code and views call its
repositories (clients, apis, users, roles, refresh_tokens, codes, consents, assertions, notes)
and never see SQL. A repository method that writes declares it (`begin_write`) itself, after
whatever authentication came first, so on SQLite no password check ever runs holding the write
lock.
The request's work is committed once its response is complete (the OAuth server does this for
its responses); the few writes that must outlive a failed request commit on their own, and
say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session as Session  # (the operations hold it, never call it)

from ..db import WRITE_INTENT, Database
from .account_links import AccountLinks
from .apis import Apis
from .assertions import Assertions
from .client_cache import VERSION_QUERY
from .clients import Clients
from .codes import Codes
from .consents import Consents
from .devices import Devices
from .dpop_jtis import DPoPJtis
from .idps import Idps
from .interactions import Interactions
from .login_sessions import LoginSessions
from .notes import Notes
from .passkeys import Passkeys
from .pushed_requests import PushedRequests
from .refresh_tokens import RefreshTokens
from .registration import Registrations
from .roles import Roles
from .self_service import SelfService
from .users import Users


class Store:
    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock
        self.clients = Clients(self)
        self.apis = Apis(self, database.settings.api_audience, database.settings.issuer)
        self.users = Users(self)
        self.refresh_tokens = RefreshTokens(self)
        self.codes = Codes(self)
        self.consents = Consents(self)
        self.login_sessions = LoginSessions(self)
        self.assertions = Assertions(self)
        self.dpop_jtis = DPoPJtis(self, database.settings.ratelimit_storage_url)
        self.notes = Notes(self)
        self.roles = Roles(self)
        self.registrations = Registrations(self)
        self.devices = Devices(self)
        self.pushed_requests = PushedRequests(self)
        self.interactions = Interactions(self)
        self.idps = Idps(self)
        self.account_links = AccountLinks(self)
        self.self_service = SelfService(self)
        self.passkeys = Passkeys(self)

    def now(self) -> int:
        return int(self.clock())

    def session(self) -> Session:
        """The current request's (thread's) session."""
        return self.database.scoped()

    def ping(self) -> None:
        """One round trip to the database (the readiness check); raises when it does not
        answer."""
        self.session().execute(text("SELECT 1"))

    def begin_write(self) -> Session:
        """The session, in a transaction that will write. On SQLite that is BEGIN IMMEDIATE: the
        write lock is taken up front, so two writers queue on busy_timeout instead of one
        failing when it upgrades. A read transaction already open is ended first (SQLite cannot
        upgrade it safely); what it loaded stays usable (expire_on_commit is off)."""
        session = self.session()
        if not self.database.is_sqlite:
            return session  # PostgreSQL locks rows as it writes them: nothing to declare
        if session.in_transaction():
            if session.connection().get_execution_options().get("sqlite_write_intent"):
                return session
            session.commit()
        session.connection(execution_options=WRITE_INTENT)
        return session

    def sees_version(self, version: int) -> bool:
        """Whether what this request loads now is at least as new as `version` of the clients
        (read outside its transaction), so that a per-worker copy may keep it under that
        version. Always on PostgreSQL, where each statement sees every commit made before it,
        and on SQLite while the request holds no transaction yet. A SQLite transaction sees
        the database as at its first read: a change committed since is in the version and not
        in what it loads, so its own view of the version is asked (a primary-key read, only
        when a copy is about to be kept)."""
        if not self.database.is_sqlite:
            return True
        session = self._open_session()
        if session is None or not session.in_transaction():
            return True
        return bool(session.connection().exec_driver_sql(VERSION_QUERY).scalar() == version)

    def _open_session(self) -> Session | None:
        """The request's session if anything opened one (a client_credentials request whose
        client is cached never does: no session is made just to commit nothing)."""
        return self.database.scoped() if self.database.scoped.registry.has() else None

    def commit(self) -> None:
        session = self._open_session()
        if session is not None and session.in_transaction():
            session.commit()

    def rollback(self) -> None:
        session = self._open_session()
        if session is not None:
            session.rollback()

    def close(self) -> None:
        """End the request: whatever was not committed is rolled back."""
        self.clients.cache.forget_seen()
        self.database.scoped.remove()
