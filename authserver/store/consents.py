"""Remembered consent: the scopes a user has allowed a client, so the page is asked once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from ..models import Consent

if TYPE_CHECKING:
    from . import Store

_FIND = select(Consent).where(Consent.user_id == bindparam("user_id"),
                              Consent.client_id == bindparam("client_id"))  # built once


class Consents:
    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, user_id: int, client_id: str) -> Consent | None:
        return self.store.session().scalar(_FIND, {"user_id": user_id, "client_id": client_id})

    def remember(self, user_id: int, client_id: str, scope: str) -> None:
        """Add `scope` to what the user allowed this client. Two first-time consents at once
        (two tabs) may both find none: the second insert then meets the unique constraint, and
        its scopes are added to the row the first one made instead."""
        session = self.store.begin_write()
        existing = self.find(user_id, client_id)
        if existing is None:
            try:
                with session.begin_nested():
                    session.add(Consent(user_id=user_id, client_id=client_id, scope=scope))
                return
            except IntegrityError:
                existing = self.find(user_id, client_id)
                if existing is None:
                    raise
        merged = " ".join(dict.fromkeys(existing.scope.split() + scope.split()))
        if merged != existing.scope:  # an unchanged row left clean: no flush to run at commit
            existing.scope = merged
