"""Passkeys (WebAuthn credentials) and the ceremonies' pending challenges."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, now


class Passkey(Base):
    """A credential a user's authenticator made for this server (RP ID = the issuer's host).
    The server finds the user by the credential's id: whatever user id a browser sends is only
    checked against it, never trusted."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential id, base64url (WebAuthn allows up to 1023 bytes: 1364 characters).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The COSE public key the registration gave.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The authenticator's signature counter last seen (WebAuthn §6.1.1): never goes back.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100))
    # The transports the browser reported (space-separated: "internal hybrid"), as hints.
    transports: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(lazy="joined")


class PasskeyChallenge(Base):
    """A ceremony's challenge, waiting for the browser that asked for it: one a browser and
    purpose (a new one replaces it), used once, short-lived."""

    __tablename__ = "passkey_challenges"
    __table_args__ = (UniqueConstraint("browser", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The browser's random id (its signed session cookie's `bid`, as interactions have).
    browser: Mapped[str] = mapped_column(String(64))
    # "register", "sign-in" or "second-factor".
    purpose: Mapped[str] = mapped_column(String(20))
    challenge: Mapped[str] = mapped_column(String(100))
    # The user the ceremony is for (registration, second factor); None for a passwordless
    # sign-in, where the passkey says who.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
