"""The database key store (AUTHSERVER_KEY_STORE=database)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SigningKey(Base):
    """A signing key of the database key store (AUTHSERVER_KEY_STORE=database; keystore/
    database.py): its lifecycle state and times, and the private key, always encrypted."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    alg: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[float] = mapped_column(Float)
    activated_at: Mapped[float | None] = mapped_column(Float)
    retired_at: Mapped[float | None] = mapped_column(Float)
    encrypted_key: Mapped[str] = mapped_column(Text)


class KeyStoreVersion(Base):
    """One row whose version moves with every change to signing_keys, in the same
    transaction: what running instances poll to follow a rotation. Writers lock it first, so
    two rotations queue instead of racing."""

    __tablename__ = "key_store_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
