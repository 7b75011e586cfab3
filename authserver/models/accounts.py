"""Users, their remembered consents and their sign-in sessions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, now


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The OIDC subject: stable, opaque, never reassigned (OIDC Core §2 "sub").
    sub: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: str(uuid.uuid4()))
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    # Whether the user opened a link mailed to `email` (or the operator said so).
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Signed up on their own: no sign-in until the address is verified.
    verify_before_sign_in: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The other OpenID Connect standard claims the user has (OIDC Core §5.1), by claim name;
    # checked by store/user_claims.py.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def get_user_id(self) -> str:
        return self.sub


class Consent(Base):
    """The scopes a user has allowed a client, remembered so the consent page is asked once."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def covers(self, scope: str) -> bool:
        return set(scope.split()) <= set(self.scope.split())


class LoginSession(Base):
    """A browser sign-in. The cookie holds only its random id (stored hashed here); logout,
    a password change or the user's removal end it on the server, so a copied cookie stops
    working (OWASP ASVS V3.3)."""

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    # The session's public id, in the ID tokens and logout tokens of its clients (OIDC
    # Back-Channel Logout §2.1); unlike the cookie's id it proves nothing.
    sid: Mapped[str | None] = mapped_column(String(43), index=True, unique=True)
    # How the user signed in (RFC 8176 amr values, space-separated); NULL: a password.
    amr: Mapped[str | None] = mapped_column(String(64))
    # What the account page shows of it: the address and browser it began from, its last use.
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(lazy="joined")


class LoginSessionClient(Base):
    """A client the sign-in session logged the user in to (a code was issued to it): who gets a
    logout token when the session ends."""

    __tablename__ = "login_session_clients"

    session_id_hash: Mapped[str] = mapped_column(
        ForeignKey("login_sessions.id_hash", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
