"""Federation: the other OpenID providers people may sign in with, the upstream identities
linked to local users, and the state of a sign-in under way at a provider."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, now


class IdentityProvider(Base):
    """An upstream OpenID provider (`authserver idp create`), found by its discovery."""

    __tablename__ = "idps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(String(255))
    # The client secret at the provider: sealed with AUTHSERVER_KEYS_PASSPHRASE when one is set
    # (keystore/sealing.py, the slug as associated data), else as given.
    client_secret: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    link_by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    create_users: Mapped[bool] = mapped_column(Boolean, default=True)
    # The provider's discovery document as read at create (its endpoints).
    discovery: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class LinkedIdentity(Base):
    """A local user's identity at a provider: the provider's `sub` for them (OIDC Core §2:
    unique only together with the issuer)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("idp_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idp_id: Mapped[int] = mapped_column(ForeignKey("idps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    idp: Mapped[IdentityProvider] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class UpstreamSignIn(Base):
    """A sign-in sent to a provider, until its callback: the state (stored hashed), nonce and
    PKCE verifier, bound to the browser that started it; spent by the first callback."""

    __tablename__ = "upstream_sign_ins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser: Mapped[str] = mapped_column(String(64))
    idp_id: Mapped[int] = mapped_column(ForeignKey("idps.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    # What the sign-in continues: an interaction (its id), or linking to the signed-in user.
    interaction_id: Mapped[str | None] = mapped_column(String(64))
    link_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
