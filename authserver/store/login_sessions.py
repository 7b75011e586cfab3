"""Browser sign-in sessions, kept on the server: the cookie names one by a random id."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, exists, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.types import String

from ..hashing import hash_secret, new_secret
from ..models import Client, LoginSession, LoginSessionClient

if TYPE_CHECKING:
    from . import Store


# Statements built once (a statement made per call is built and keyed again each time).
_LIVE = select(LoginSession).where(LoginSession.id_hash == bindparam("id_hash"))
_INSERT = insert(cast(Table, LoginSession.__table__))


def _add_client(insert: Any) -> Any:
    """INSERT (this sign-in, this client) ... ON CONFLICT DO NOTHING, from a SELECT that finds
    the sign-in (`insert` is the dialect's, for its ON CONFLICT)."""
    found = select(bindparam("id_hash", type_=String), bindparam("client_id", type_=String)).where(
        exists().where(LoginSession.id_hash == bindparam("id_hash")))
    return (insert(LoginSessionClient).from_select(["session_id_hash", "client_id"], found)
            .on_conflict_do_nothing(index_elements=["session_id_hash", "client_id"]))


_ADD_CLIENT_SQLITE = _add_client(sqlite_insert)
_ADD_CLIENT_POSTGRESQL = _add_client(postgresql_insert)


def end_user_sessions(session: Session, user_id: int, now: int) -> None:
    """End every sign-in of a user (a password change): copied cookies stop working."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


class LoginSessions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, user_id: int, lifetime: int, amr: str | None = None,
              address: str | None = None,
              user_agent: str | None = None) -> tuple[str, LoginSession]:
        """A new sign-in; returns its id (for the cookie only) and the sign-in itself (the
        request goes on with it, without reading it back). Committed at once: the user has
        signed in, whatever the rest of the request does. The address and browser are kept for
        the account page."""
        session_id, now = new_secret(32), self.store.now()
        values = {
            "id_hash": hash_secret(session_id), "user_id": user_id, "auth_time": now,
            "expires_at": now + lifetime, "ended_at": None, "sid": secrets.token_urlsafe(32),
            "amr": amr, "last_used_at": now, "address": (address or "")[:64] or None,
            "user_agent": (user_agent or "")[:300] or None}
        session = self.store.begin_write()
        session.connection().execute(_INSERT, values)
        # The row as the session would have loaded it (its user comes from the identity map),
        # without the unit of work's flush: a third of a login's database time.
        created = LoginSession(**values)
        make_transient_to_detached(created)
        session.add(created)
        self.store.commit()
        return session_id, created

    def live(self, session_id: str) -> LoginSession | None:
        """The sign-in, unless it ended or expired."""
        found = self.store.session().scalar(_LIVE, {"id_hash": hash_secret(session_id)})
        if found is None or found.ended_at is not None or found.expires_at <= self.store.now():
            return None
        return found

    def raise_amr(self, login_session: LoginSession, amr: str) -> None:
        """A step-up: the sign-in now counts the factors `amr` says, from now (its auth_time);
        its id and sid stay, so the clients it signed in to keep their logout."""
        now = self.store.now()
        self.store.begin_write().execute(
            update(LoginSession).where(LoginSession.id_hash == login_session.id_hash)
            .values(amr=amr, auth_time=now).execution_options(synchronize_session=False))
        login_session.amr, login_session.auth_time = amr, now
        self.store.commit()

    def touch(self, login_session: LoginSession, every: int) -> None:
        """Note the sign-in's use, at most once per `every` seconds (the account page's "last
        used"): one small committed UPDATE, not a write per request."""
        now = self.store.now()
        if (login_session.last_used_at or 0) + every > now:
            return
        self.store.begin_write().execute(
            update(LoginSession).where(LoginSession.id_hash == login_session.id_hash)
            .values(last_used_at=now).execution_options(synchronize_session=False))
        login_session.last_used_at = now
        self.store.commit()

    def add_client(self, login_session: LoginSession, client_id: str) -> None:
        """Remember that this sign-in logged the user in to this client (once per client):
        one INSERT ... ON CONFLICT DO NOTHING, so a row already there (an earlier code, or
        another tab's at the same instant) is the same fact and nothing fails. From a SELECT
        that finds the sign-in: one deleted meanwhile (housekeeping, its user removed) has no
        clients to record, and its foreign key must not fail the code."""
        statement = _ADD_CLIENT_SQLITE if self.store.database.is_sqlite else _ADD_CLIENT_POSTGRESQL
        self.store.begin_write().connection().execute(
            statement, {"id_hash": login_session.id_hash, "client_id": client_id})

    def clients(self, login_session: LoginSession) -> list[Client]:
        """The clients this sign-in logged the user in to."""
        return list(self.store.session().scalars(
            select(Client).join(LoginSessionClient, LoginSessionClient.client_id == Client.client_id)
            .where(LoginSessionClient.session_id_hash == login_session.id_hash)))

    def end(self, session_id: str) -> None:
        self.store.begin_write().execute(
            update(LoginSession)
            .where(LoginSession.id_hash == hash_secret(session_id),
                   LoginSession.ended_at.is_(None))
            .values(ended_at=self.store.now())
        )
        self.store.commit()
