"""Links mailed to people: verify an address, reset a password."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"


class AccountLink(Base):
    """A mailed link's token, stored only as its SHA-256: single use, expiring, voided by a
    newer link of the same purpose and by a password change."""

    __tablename__ = "account_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    # The address the link was mailed to (a verification makes it the user's email).
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    voided_at: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship(lazy="joined")
