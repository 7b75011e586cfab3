"""Client assertions (private_key_jwt) already used: each (client, jti) is accepted once
(RFC 7523 §3 item 7), kept until the assertion expires."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from ..db import WRITE_INTENT
from ..models import ClientAssertionUse

if TYPE_CHECKING:
    from . import Store

_INSERT = insert(cast(Table, ClientAssertionUse.__table__))  # built once


class Assertions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def use_once(self, client_id: str, jti: str, expires_at: int) -> bool:
        """True the first time this client presents this jti. Its own short transaction on its
        own connection, committed at once whatever becomes of the request (a replay must be
        refused even if this request fails later), and leaving the request's session alone.
        The primary key makes the check atomic across workers and hosts. One INSERT on a
        connection, not through an ORM session: every DPoP call without Redis makes one, and
        the session's unit of work was most of such a call's time."""
        digest = hashlib.sha256(f"{client_id}:{jti}".encode()).hexdigest()
        with self.store.database.engine.connect() as connection:
            try:
                with connection.execution_options(**WRITE_INTENT).begin():
                    connection.execute(_INSERT, {"jti_hash": digest, "expires_at": expires_at})
            except IntegrityError:
                return False
        return True

    def use_once_here(self, namespace: str, jti: str, expires_at: int) -> bool:
        """As use_once, but inside the request's own transaction (a savepoint): for a request
        that may already hold SQLite's write lock (a refresh), where a second connection would
        wait on it. If the request fails, the jti is not kept, and nothing was issued for it."""
        digest = hashlib.sha256(f"{namespace}:{jti}".encode()).hexdigest()
        session = self.store.begin_write()
        try:
            with session.begin_nested():  # the INSERT alone, not the unit of work's flush
                session.connection().execute(_INSERT, {"jti_hash": digest,
                                                       "expires_at": expires_at})
        except IntegrityError:
            return False
        return True
