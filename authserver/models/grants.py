"""Grants and what leads to them: refresh token families and tokens, authorization codes,
device authorizations, pushed authorization requests."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..policy import acr_answer, amr_values
from .accounts import User
from .base import Base, now
from .clients import Client


class RefreshTokenFamily(Base):
    """All refresh tokens descended from one grant. Refresh and revocation serialise on this row:
    a refresh claims generation g by moving `generation` from g to g+1 in one conditional UPDATE.
    """

    __tablename__ = "refresh_token_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    # The generation of the one live refresh token of this family.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    rotated_at: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    # Which authorization code started the family, so a replayed code can revoke it.
    authorization_code_id: Mapped[int | None] = mapped_column(Integer)
    # The claims the grant asked for (OIDC Core §5.5; oauth/claims_request.py), and the sign-in
    # session it came from (sid), for the ID tokens of its refreshes and for userinfo.
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sid: Mapped[str | None] = mapped_column(String(43))
    # The APIs (audiences) the grant covers (RFC 8707; oauth/resources.py).
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The DPoP key (RFC 7638 thumbprint) a public client's refresh tokens are bound to.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    # How the user signed in (the sign-in session's, policy.amr_values).
    amr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")


class RefreshToken(Base, TokenMixin):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family_generation", "family_id", "generation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(
        ForeignKey("refresh_token_families.id", ondelete="CASCADE")
    )
    generation: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    family: Mapped[RefreshTokenFamily] = relationship(lazy="joined")

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_at - self.issued_at

    def is_expired(self, at: int | None = None) -> bool:
        return self.expires_at <= (now() if at is None else at)

    def is_revoked(self) -> bool:
        return self.family.revoked_at is not None

    def is_live(self, at: int) -> bool:
        """Neither expired, revoked, nor rotated away, at time `at`."""
        return (
            not self.is_expired(at)
            and not self.is_revoked()
            and self.generation == self.family.generation
        )


class AuthorizationCode(Base, AuthorizationCodeMixin):
    __tablename__ = "authorization_codes"
    # The replayed-nonce check of every authorization request (store/codes.py: nonce_seen)
    # looks the nonce up by its hash: a nonce may be 4,096 characters, more than a PostgreSQL
    # index entry may hold (2,704 bytes).
    __table_args__ = (Index("ix_authorization_codes_client_nonce", "client_id", "nonce_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    nonce_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of nonce, hex
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sid: Mapped[str | None] = mapped_column(String(43))
    # The APIs (audiences) the grant covers (RFC 8707; oauth/resources.py).
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The DPoP key the authorization request named (RFC 9449 §10: dpop_jkt).
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))
    # How the user signed in (the sign-in session's, policy.amr_values).
    amr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        # The level the sign-in reached, or the essential value it meets (the claims parameter's
        # "essential_acr", oauth/claims_request.py).
        return acr_answer(self.amr, (self.claims or {}).get("essential_acr"))

    def get_amr(self) -> list[str]:
        return amr_values(self.amr)


class DeviceAuthorization(Base):
    """A device authorization request (RFC 8628 §3.1): its device code and user code, stored
    hashed; pending until the user approves or denies it at /device, then claimed once."""

    __tablename__ = "device_authorizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # pending -> approved | denied; approved -> used (its tokens were issued).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    # How the approving user signed in (the sign-in session's, policy.amr_values).
    amr: Mapped[str | None] = mapped_column(String(64))
    interval: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    user: Mapped[User | None] = relationship(lazy="joined")

    # Authlib's DeviceCredentialMixin (rfc8628), read by its DeviceCodeGrant.
    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return ""  # only its hash is kept

    def is_expired(self, at: int | None = None) -> bool:
        return self.expires_at <= (now() if at is None else at)


class PushedRequest(Base):
    """An authorization request pushed to /oauth/par (RFC 9126), until its request_uri is used
    (a code or a denial came of it) or expires; the URI is stored hashed."""

    __tablename__ = "pushed_requests"

    request_uri_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
