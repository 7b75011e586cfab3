"""Pending interactions (models/interactions.py): started by /oauth/authorize, found again by
their id and browser, ended (deleted) in the transaction of the answer that came of them."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select

from ..hashing import hash_secret
from ..models import Interaction

if TYPE_CHECKING:
    from . import Store

# As long as a person may take over a sign-in page (node-oidc-provider's default: one hour).
INTERACTION_TTL = 3600

# Statements built once: SQLAlchemy builds, coerces and keys a statement made per call again each
# time, which cost a sign-in more than running it (bench/RESULTS.md, 2026-12-08).
_INTERACTIONS = cast(Table, Interaction.__table__)
_INSERT = insert(_INTERACTIONS)
_BY_ID = select(Interaction).where(Interaction.id_hash == bindparam("id_hash"))
_END = delete(_INTERACTIONS).where(_INTERACTIONS.c.id_hash == bindparam("id_hash"))


class Interactions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, browser: str, client_id: str, request: dict[str, Any],
              login_sid: str | None, stale_sid: str | None) -> str:
        """A new interaction; returns its id (256 random bits, stored hashed)."""
        interaction_id, now = secrets.token_urlsafe(32), self.store.now()
        self.store.begin_write().connection().execute(_INSERT, {
            "id_hash": hash_secret(interaction_id), "browser": browser, "client_id": client_id,
            "request": request, "login_sid": login_sid, "stale_sid": stale_sid,
            "created_at": now, "expires_at": now + INTERACTION_TTL})
        return interaction_id

    def find(self, interaction_id: str, browser: str) -> Interaction | None:
        """The live interaction of this id, if it belongs to this browser."""
        found = self.store.session().scalar(_BY_ID, {"id_hash": hash_secret(interaction_id)})
        if found is None or found.browser != browser or found.expires_at <= self.store.now():
            return None
        return found

    def end(self, interaction: Interaction) -> bool:
        """Ends it (in the answer's transaction); False when another request ended it first."""
        result = self.store.begin_write().connection().execute(
            _END, {"id_hash": interaction.id_hash})
        return bool(result.rowcount)
