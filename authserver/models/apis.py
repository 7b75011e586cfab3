"""The operator's own APIs and their scopes (RFC 8707)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, now


class Api(Base):
    """A resource server of the operator's (RFC 8707 resource indicators): tokens for it carry
    its audience, only its scopes, and its lifetime when set. The built-in sample API is not
    stored: it comes from AUTHSERVER_API_AUDIENCE (store/apis.py)."""

    __tablename__ = "apis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    access_token_ttl: Mapped[int | None] = mapped_column(Integer)
    # The algorithm of its access tokens; None: the server's default.
    signing_alg: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    scopes: Mapped[list[ApiScope]] = relationship(
        back_populates="api", cascade="all, delete-orphan", lazy="selectin",
        order_by="ApiScope.name")


class ApiScope(Base):
    """A scope of an API; the name is unique across every API (one owner per scope)."""

    __tablename__ = "api_scopes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    api: Mapped[Api] = relationship(back_populates="scopes")
