"""PostgreSQL's one-statement refresh: find the presented token, check it is its family's live
one (the client's, unexpired, family neither revoked nor past its maximum age), claim the next
generation (UPDATE ... FROM ... RETURNING), store the successor the caller made beforehand as
that generation (an INSERT ... SELECT from the claim: no claim, no successor), and return what
the refresh grant reads: one statement, one round trip. (SQLite's RETURNING cannot name the
FROM tables; refresh_tokens.py takes the two-step path there.)

The answer is plain values, the user alone an ORM entity: loading the token and its family as
entities too cost about a fifth of the claim's CPU, commit included (bench/RESULTS.md,
2026-12-07, late).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BigInteger, ColumnElement, String, Table, bindparam, case, insert, select, update
from sqlalchemy.orm import Session

from ..models import RefreshToken, RefreshTokenFamily, User

if TYPE_CHECKING:
    from ..models import Client

_FAMILIES = cast(Table, RefreshTokenFamily.__table__)
_REFRESH_TOKENS = cast(Table, RefreshToken.__table__)
_USERS = cast(Table, User.__table__)

_NOW = bindparam("now", type_=BigInteger)
_FAMILY_LIMIT: ColumnElement[int] = _FAMILIES.c.created_at + bindparam("max_age")
_SLID: ColumnElement[int] = _NOW + bindparam("ttl", type_=BigInteger)
_F = _FAMILIES.c
_CLAIMED = (
    update(_FAMILIES)
    .where(
        _REFRESH_TOKENS.c.token_hash == bindparam("presented_hash"),
        _REFRESH_TOKENS.c.family_id == _F.id,
        _REFRESH_TOKENS.c.generation == _F.generation,
        _REFRESH_TOKENS.c.client_id == bindparam("presenting_client"),
        _REFRESH_TOKENS.c.expires_at > _NOW,
        _F.revoked_at.is_(None),
        _FAMILY_LIMIT > _NOW,
        _USERS.c.id == _F.user_id,
    )
    .values(
        generation=_F.generation + 1,
        rotated_at=_NOW,
        expires_at=case((_SLID < _FAMILY_LIMIT, _SLID), else_=_FAMILY_LIMIT),
    )
    # The family as the claim left it (RETURNING gives the updated row).
    .returning(_REFRESH_TOKENS.c.id.label("token_id"),
               _REFRESH_TOKENS.c.scope.label("token_scope"), _F.id.label("family_id"),
               _F.user_id, _F.scope, _F.generation, _F.rotated_at, _F.expires_at, _F.auth_time,
               _F.claims, _F.sid, _F.resources, _F.dpop_jkt, _F.amr)
    .cte("claimed")
)
_SUCCESSOR = insert(_REFRESH_TOKENS).from_select(
    ["token_hash", "family_id", "generation", "client_id", "scope", "issued_at", "expires_at"],
    select(bindparam("successor_hash", type_=String), _CLAIMED.c.family_id,
           _CLAIMED.c.generation, bindparam("presenting_client", type_=String),
           _CLAIMED.c.scope, _NOW, _CLAIMED.c.expires_at),
).cte("successor")
# Built once, with bound parameters: building and hashing a statement per request cost more
# than running it.
_CLAIM_LIVE = (
    select(User, _CLAIMED)
    .where(User.id == _CLAIMED.c.user_id)
    .add_cte(_SUCCESSOR)
)


@dataclass(frozen=True)
class ClaimedFamily:
    """A refresh token family just after the claim moved it on: the columns of
    RefreshTokenFamily that a refresh reads (its ID token, its APIs, its DPoP key)."""

    id: str
    user: User
    scope: str
    generation: int
    rotated_at: int
    expires_at: int
    auth_time: int
    claims: dict[str, Any] | None
    sid: str | None
    resources: list[str] | None
    dpop_jkt: str | None
    amr: str | None


_FAMILY_VALUES = ("scope", "generation", "rotated_at", "expires_at", "auth_time", "claims", "sid",
                  "resources", "dpop_jkt", "amr")


@dataclass(frozen=True)
class ClaimedToken:
    """The presented refresh token, claimed: what Authlib's refresh grant and ours read of a
    RefreshToken."""

    id: int
    client_id: str
    scope: str
    family: ClaimedFamily

    @property
    def family_id(self) -> str:
        return self.family.id

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope


def claim_live(session: Session, parameters: dict[str, Any]) -> ClaimedToken | None:
    """Run the claim (parameters: presented_hash, presenting_client, successor_hash, now, ttl,
    max_age); None when the token is not its family's live one, and nothing is written."""
    row = session.execute(_CLAIM_LIVE, parameters).one_or_none()
    if row is None:
        return None
    # By column, not by name: the users table has a `claims` column too.
    values, claimed = row._mapping, _CLAIMED.c
    family = ClaimedFamily(id=values[claimed.family_id], user=row[0],
                           **{name: values[claimed[name]] for name in _FAMILY_VALUES})
    return ClaimedToken(id=values[claimed.token_id], client_id=parameters["presenting_client"],
                        scope=values[claimed.token_scope], family=family)
