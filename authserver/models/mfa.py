"""Second factors (INTERFACE.md "Two-factor sign-in"): a user's authenticator app (TOTP,
RFC 6238) and recovery codes. Passkeys (WebAuthn) have their own table."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, now


class TotpSecret(Base):
    """A user's authenticator app. A row without `confirmed_at` is a set-up in progress (the
    QR code shown, no code typed yet): it is not a second factor until a first code confirms
    it, so nothing is ever half-enrolled."""

    __tablename__ = "totp_secrets"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    # The base32 secret, sealed with AUTHSERVER_KEYS_PASSPHRASE when one is set (as the
    # database key store seals private keys), else as it is ("plain$..."): operations/totp.py.
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    confirmed_at: Mapped[int | None] = mapped_column(BigInteger)
    # The time step (unix time // 30) of the last code accepted: a code is accepted once, and
    # no earlier one after it (RFC 6238 §5.2).
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """One of a user's single-use recovery codes, stored hashed (SHA-256: each code has 80
    random bits, far beyond guessing, so a slow hash would add nothing but time)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
