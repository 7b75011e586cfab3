"""Dynamic client registration's credentials (RFC 7591, RFC 7592): the operator's initial
access tokens (each lets one client register, once, before it expires) and each registered
client's registration access token. Both stored as hashes only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import rows_changed
from ..hashing import hash_secret, new_secret, secret_matches
from ..models import Client, InitialAccessToken

if TYPE_CHECKING:
    from . import Store


def create_initial_access_token(session: Session, *, now: int, ttl: int) -> tuple[str, int]:
    """A new initial access token (shown once) and when it expires."""
    raw = new_secret(32)
    session.add(InitialAccessToken(token_hash=hash_secret(raw), created_at=now,
                                   expires_at=now + ttl))
    return raw, now + ttl


# An initial access token is named by the first hex digits of its SHA-256 (the audit log's
# fingerprint): enough to tell the operator's tokens apart, useless to register with.
TOKEN_ID_LENGTH = 8


def initial_access_tokens(session: Session) -> list[InitialAccessToken]:
    return list(session.scalars(select(InitialAccessToken)
                                .order_by(InitialAccessToken.created_at)))


def token_id(token: InitialAccessToken) -> str:
    return token.token_hash[:TOKEN_ID_LENGTH]


def revoke_initial_access_token(session: Session, token_id_given: str) -> bool:
    """Delete the unused or used token with that id; False when there is none."""
    if len(token_id_given) != TOKEN_ID_LENGTH:
        return False
    matched = [t for t in initial_access_tokens(session) if token_id(t) == token_id_given.lower()]
    for token in matched:
        session.delete(token)
    return bool(matched)


class Registrations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def use_initial_token(self, raw: str) -> bool:
        """Spend an initial access token: True once for a live token, then never again (one
        conditional UPDATE, so two registrations with one token cannot both pass)."""
        now = self.store.now()
        result = self.store.begin_write().execute(
            update(InitialAccessToken)
            .where(InitialAccessToken.token_hash == hash_secret(raw),
                   InitialAccessToken.used_at.is_(None), InitialAccessToken.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False))
        return rows_changed(result) == 1

    def issue_access_token(self, client: Client) -> str:
        """A new registration access token for the client (on registration and on every
        update: RFC 7592 §2.2 lets the server rotate it); the old one stops working."""
        raw = new_secret(32)
        self.store.begin_write()
        client.registration_access_token_hash = hash_secret(raw)
        return raw

    @staticmethod
    def access_token_matches(client: Client, raw: str) -> bool:
        return secret_matches(raw, client.registration_access_token_hash)
