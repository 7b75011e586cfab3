"""Refresh tokens and their families: rotation claims, reuse revocation, expiry.

A family is every refresh token descended from one grant; refresh and revocation serialise on
its row. A refresh claims generation g by moving the family's `generation` from g to g+1 in one
conditional UPDATE, so two requests presenting one token can never both succeed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..db import rows_changed
from ..hashing import hash_secret
from ..models import RefreshToken, RefreshTokenFamily
from . import refresh_claim
from .refresh_claim import ClaimedToken

if TYPE_CHECKING:
    from . import Store

_FAMILIES = cast(Table, RefreshTokenFamily.__table__)
_REFRESH_TOKENS = cast(Table, RefreshToken.__table__)
# The refresh path's statements are built once, with bound parameters: building and hashing a
# new statement on each request cost more than running it (bench/RESULTS.md).
_INSERT_FAMILY = insert(_FAMILIES)
_INSERT_REFRESH_TOKEN = insert(_REFRESH_TOKENS)
_REFRESH_TOKEN_BY_HASH = select(RefreshToken).where(
    RefreshToken.token_hash == bindparam("token_hash")
)
_CLAIM_GENERATION = (
    update(_FAMILIES)
    .where(
        _FAMILIES.c.id == bindparam("family_id"),
        _FAMILIES.c.generation == bindparam("expected"),
        _FAMILIES.c.revoked_at.is_(None),
    )
    .values(
        generation=bindparam("next_generation"),
        rotated_at=bindparam("now"),
        expires_at=bindparam("new_expires_at"),
    )
)


@dataclass(frozen=True)
class Lifetimes:
    """How long refresh tokens live: each token `ttl` seconds from its issue (the family slides
    with every rotation), and no family past `family_max_age` seconds from its first token."""

    ttl: int
    family_max_age: int
    # Seconds a just-rotated token is still accepted (only the immediately previous one).
    grace: int = 0

    def expiry(self, now: int, family_created_at: int) -> int:
        return min(now + self.ttl, family_created_at + self.family_max_age)

    def family_too_old(self, now: int, family_created_at: int) -> bool:
        return now >= family_created_at + self.family_max_age


def _revoke_families(session: Session, which: ColumnElement[bool], now: int) -> int:
    """The one family-revocation UPDATE: mark every matching live family revoked."""
    result = session.execute(
        update(RefreshTokenFamily)
        .where(which, RefreshTokenFamily.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def revoke_client_grants_of_user(session: Session, user_id: int, client_id: str, now: int) -> int:
    """Revoke a user's grants to one client (their consent to it withdrawn)."""
    return _revoke_families(session, (RefreshTokenFamily.user_id == user_id)
                            & (RefreshTokenFamily.client_id == client_id), now)


def revoke_user_families(session: Session, user_id: int, now: int) -> int:
    """Revoke every grant of a user (a password change); returns how many were live."""
    return _revoke_families(session, RefreshTokenFamily.user_id == user_id, now)


class RefreshTokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, raw: str) -> RefreshToken | None:
        return self.store.session().scalar(_REFRESH_TOKEN_BY_HASH, {"token_hash": hash_secret(raw)})

    def find_to_rotate(self, raw: str) -> RefreshToken | None:
        """As find, in the transaction that will claim it (the client is authenticated by now)."""
        self.store.begin_write()
        return self.find(raw)

    def claim_live(self, raw: str, client_id: str, lifetimes: Lifetimes,
                   successor: str) -> ClaimedToken | None:
        """On PostgreSQL, the usual refresh in one statement (refresh_claim.py): the presented
        token claimed if it is the live token of a live family and `client_id`'s, and
        `successor` stored as the family's new live token. None when that is not so (nothing is
        written), or on SQLite: the caller then takes the two-step path (find_to_rotate, claim,
        and add at save), which says why a token is refused, forgives a retry within the grace
        window, and detects reuse."""
        if self.store.database.is_sqlite:
            return None
        return refresh_claim.claim_live(self.store.session(), {
            "presented_hash": hash_secret(raw), "presenting_client": client_id,
            "now": self.store.now(), "ttl": lifetimes.ttl, "max_age": lifetimes.family_max_age,
            "successor_hash": hash_secret(successor),
        })

    def claim(self, token: RefreshToken, lifetimes: Lifetimes) -> int | None:
        """Atomically move the family past this token: the new generation, or None when the token
        is not the live one, including when a concurrent request claimed it first."""
        family = token.family
        now = self.store.now()
        # The family's lifetime slides with each rotation (never past its maximum age), set
        # here rather than by a second UPDATE when the new token is stored.
        expires_at = lifetimes.expiry(now, family.created_at)
        if token.generation == family.generation:
            expected = token.generation
        elif (
            lifetimes.grace
            and token.generation == family.generation - 1
            and family.rotated_at is not None
            and now - family.rotated_at <= lifetimes.grace
        ):
            # Within the grace window the immediately previous token may be retried once more
            # (its response may have been lost); the child it got becomes stale.
            expected = family.generation
        else:
            return None
        result = self.store.begin_write().connection().execute(_CLAIM_GENERATION, {
            "family_id": family.id, "expected": expected, "next_generation": expected + 1,
            "now": now, "new_expires_at": expires_at,
        })
        if rows_changed(result) != 1:
            return None
        # What the database now holds, without marking the object dirty (no UPDATE on flush).
        for name, value in (("generation", expected + 1), ("rotated_at", now),
                            ("expires_at", expires_at)):
            set_committed_value(family, name, value)
        return expected + 1

    def start_family(self, *, client_id: str, user_id: int, scope: str, auth_time: int,
                     authorization_code_id: int | None, expires_at: int,
                     claims: dict[str, Any] | None = None, sid: str | None = None,
                     resources: list[str] | None = None, dpop_jkt: str | None = None,
                     amr: str | None = None) -> str:
        """A new grant's family (with or without refresh tokens to come); returns its id."""
        family_id = str(uuid.uuid4())
        self.store.begin_write().execute(_INSERT_FAMILY, {
            "id": family_id,
            "client_id": client_id,
            "user_id": user_id,
            "scope": scope,
            "generation": 0,
            "auth_time": auth_time,
            "created_at": self.store.now(),
            "expires_at": expires_at,
            "authorization_code_id": authorization_code_id,
            "claims": claims,
            "sid": sid,
            "resources": resources,
            "dpop_jkt": dpop_jkt,
            "amr": amr,
        })
        return family_id

    def grant(self, family_id: str) -> RefreshTokenFamily | None:
        """The grant an access token names. None once it expired and was pruned (or went with
        its user, which callers check by the token's sub)."""
        return self.store.session().get(RefreshTokenFamily, family_id)

    def add(self, raw: str, *, family_id: str, generation: int, client_id: str, scope: str,
            expires_at: int) -> None:
        """Store a refresh token (hashed) as its family's live generation. Plain INSERTs rather
        than ORM objects: this runs on every refresh, and the unit of work cost more."""
        self.store.begin_write().execute(_INSERT_REFRESH_TOKEN, {
            "token_hash": hash_secret(raw),
            "family_id": family_id,
            "generation": generation,
            "client_id": client_id,
            "scope": scope,
            "issued_at": self.store.now(),
            "expires_at": expires_at,
        })

    def revoke_family(self, family_id: str) -> bool:
        """Mark a family revoked; True if this call revoked it. Takes the family row's lock, so
        it serialises with a refresh of the same family."""
        session = self.store.begin_write()
        return _revoke_families(session, RefreshTokenFamily.id == family_id, self.store.now()) > 0

    def revoke_for_code(self, code_id: int) -> int:
        """Revoke the grants an authorization code started (the code was replayed)."""
        session = self.store.begin_write()
        which = RefreshTokenFamily.authorization_code_id == code_id
        return _revoke_families(session, which, self.store.now())

