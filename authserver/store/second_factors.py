"""Whether a user has a second factor: the one question the protocol asks of them (the
password grant refuses such a user); everything else about them is operations/mfa.py's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Passkey, TotpSecret


def has_second_factor(session: Session, user_id: int) -> bool:
    """A confirmed authenticator app or a passkey (INTERFACE.md: a passkey is accepted as the
    second factor, so holding one means the password alone is not enough)."""
    if session.scalar(select(TotpSecret.user_id).where(
            TotpSecret.user_id == user_id, TotpSecret.confirmed_at.is_not(None))) is not None:
        return True
    return session.scalar(select(Passkey.id).where(Passkey.user_id == user_id).limit(1)) is not None
