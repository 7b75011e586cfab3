"""Authorization codes: stored hashed, claimed once, and remembered after use so that a replay
is recognised (RFC 6749 §4.1.2)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from ..db import rows_changed
from ..hashing import hash_secret
from ..models import AuthorizationCode

if TYPE_CHECKING:
    from . import Store

# Statements built once (a statement made per call is built and keyed again each time).
_CODES = cast(Table, AuthorizationCode.__table__)
_CODE_BY_HASH = select(AuthorizationCode).where(AuthorizationCode.code_hash == bindparam("code_hash"))
_INSERT = insert(_CODES)
_CLAIM = (update(_CODES).where(_CODES.c.id == bindparam("code_id"), _CODES.c.used_at.is_(None))
          .values(used_at=bindparam("now")))
_NONCE_USED = (select(_CODES.c.id).where(_CODES.c.client_id == bindparam("client_id"),
                                          _CODES.c.nonce_hash == bindparam("nonce_hash"))
               .limit(1))


class Claim(enum.Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # no such code, or another client's
    REPLAYED = "replayed"  # used before: its grants have just been revoked
    EXPIRED = "expired"
    RACED = "raced"  # a concurrent request claimed it first


class Codes:
    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, code: str, *, client_id: str, user_id: int, redirect_uri: str, scope: str,
             nonce: str | None, code_challenge: str | None, code_challenge_method: str | None,
             auth_time: int, claims: dict[str, Any] | None, sid: str | None,
             resources: list[str], ttl: int, dpop_jkt: str | None = None,
             amr: str | None = None) -> None:
        now = self.store.now()
        self.store.begin_write().connection().execute(_INSERT, {
            "code_hash": hash_secret(code),
            "client_id": client_id,
            "user_id": user_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "nonce": nonce,
            "nonce_hash": hash_secret(nonce) if nonce is not None else None,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
            "auth_time": auth_time,
            "claims": claims,
            "sid": sid,
            "resources": resources,
            "dpop_jkt": dpop_jkt,
            "amr": amr,
            "created_at": now,
            "expires_at": now + ttl,
        })

    def claim(self, code: str, client_id: str) -> tuple[Claim, AuthorizationCode | None]:
        """Take the code for this client, once. A replayed code revokes the grants it started
        and commits that at once: the revocation must stand although the request fails."""
        session = self.store.begin_write()
        found = session.scalar(_CODE_BY_HASH, {"code_hash": hash_secret(code)})
        if found is None or found.client_id != client_id:
            return Claim.UNKNOWN, None
        now = self.store.now()
        if found.used_at is not None:
            self.store.refresh_tokens.revoke_for_code(found.id)
            self.store.commit()
            return Claim.REPLAYED, found
        if found.expires_at <= now:
            return Claim.EXPIRED, found
        claimed = session.connection().execute(_CLAIM, {"code_id": found.id, "now": now})
        if rows_changed(claimed) != 1:
            return Claim.RACED, found
        return Claim.OK, found

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        """Whether this client sent this nonce before (a replayed authentication request).
        Best effort: two requests with one nonce at the same instant may both pass, as there is
        no unique constraint on it (codes of different clients may share a nonce)."""
        found = self.store.session().connection().execute(
            _NONCE_USED, {"client_id": client_id, "nonce_hash": hash_secret(nonce)}).first()
        return found is not None
