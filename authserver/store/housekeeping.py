"""Deleting what can never be used again: expired codes, refresh tokens and token families,
used client assertions, ended or expired sign-in sessions, expired initial access tokens
device authorizations, pushed requests, interactions, upstream sign-ins, mailed account
links and passkey challenges.

Runs in bounded batches, each its own short transaction selected by primary key, so that
token requests are never blocked behind one long DELETE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from ..db import WRITE_INTENT
from ..models import (
    AccountLink,
    AuthorizationCode,
    ClientAssertionUse,
    DeviceAuthorization,
    InitialAccessToken,
    Interaction,
    LoginSession,
    PasskeyChallenge,
    PushedRequest,
    RefreshToken,
    RefreshTokenFamily,
    UpstreamSignIn,
)

# Revoked families are kept a day for introspection and audit, then go.
REVOKED_FAMILY_RETENTION = 86_400


@dataclass
class PruneCounts:
    authorization_codes: int = 0
    refresh_tokens: int = 0
    refresh_token_families: int = 0
    client_assertion_uses: int = 0
    login_sessions: int = 0
    initial_access_tokens: int = 0
    device_authorizations: int = 0
    pushed_requests: int = 0
    interactions: int = 0
    upstream_sign_ins: int = 0
    account_links: int = 0
    passkey_challenges: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _delete_in_batches(
    session_factory: Callable[[], Session], model: type, condition: ColumnElement[bool],
    batch_size: int,
    key: Any = None,
) -> int:
    key = model.id if key is None else key  # type: ignore[attr-defined]
    deleted = 0
    while True:
        with session_factory() as session, session.begin():
            session.connection(execution_options=WRITE_INTENT)
            ids = session.scalars(
                select(key).where(condition).order_by(key).limit(batch_size)
            ).all()
            if not ids:
                return deleted
            session.execute(delete(model).where(key.in_(ids)))
            deleted += len(ids)


def prune(
    session_factory: Callable[[], Session], *, batch_size: int = 1000, now: int | None = None
) -> PruneCounts:
    now = int(time.time()) if now is None else now
    counts = PruneCounts()
    counts.authorization_codes = _delete_in_batches(
        session_factory, AuthorizationCode, AuthorizationCode.expires_at < now, batch_size
    )
    counts.refresh_tokens = _delete_in_batches(
        session_factory, RefreshToken, RefreshToken.expires_at < now, batch_size
    )
    family_dead = or_(
        RefreshTokenFamily.expires_at < now,
        RefreshTokenFamily.revoked_at < now - REVOKED_FAMILY_RETENTION,
    )
    # A family's remaining tokens go with it (ON DELETE CASCADE).
    counts.refresh_token_families = _delete_in_batches(
        session_factory, RefreshTokenFamily, family_dead, batch_size
    )
    counts.client_assertion_uses = _delete_in_batches(
        session_factory, ClientAssertionUse, ClientAssertionUse.expires_at < now, batch_size,
        key=ClientAssertionUse.jti_hash,
    )
    counts.login_sessions = _delete_in_batches(
        session_factory, LoginSession,
        or_(LoginSession.expires_at < now, LoginSession.ended_at.is_not(None)), batch_size,
        key=LoginSession.id_hash,
    )
    counts.initial_access_tokens = _delete_in_batches(
        session_factory, InitialAccessToken, InitialAccessToken.expires_at < now, batch_size,
        key=InitialAccessToken.token_hash,
    )
    counts.device_authorizations = _delete_in_batches(
        session_factory, DeviceAuthorization, DeviceAuthorization.expires_at < now, batch_size)
    counts.pushed_requests = _delete_in_batches(
        session_factory, PushedRequest, PushedRequest.expires_at < now, batch_size,
        key=PushedRequest.request_uri_hash)
    counts.interactions = _delete_in_batches(
        session_factory, Interaction, Interaction.expires_at < now, batch_size,
        key=Interaction.id_hash)
    counts.upstream_sign_ins = _delete_in_batches(
        session_factory, UpstreamSignIn, UpstreamSignIn.expires_at < now, batch_size,
        key=UpstreamSignIn.state_hash)
    counts.account_links = _delete_in_batches(
        session_factory, AccountLink, AccountLink.expires_at < now, batch_size,
        key=AccountLink.token_hash)
    counts.passkey_challenges = _delete_in_batches(
        session_factory, PasskeyChallenge, PasskeyChallenge.expires_at < now, batch_size)
    return counts
