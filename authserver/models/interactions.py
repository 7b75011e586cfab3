"""Pending interactions: an authorization request validated once at /oauth/authorize, kept
while the browser goes through its steps (login, consent) at /interaction/<id>."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Interaction(Base):
    __tablename__ = "interactions"

    # SHA-256 of the id in the interaction's URLs (like codes and request_uris, never stored).
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The browser it belongs to: a random id in that browser's signed session cookie, so a
    # leaked /interaction URL is of no use in another browser.
    browser: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    # The validated request (oauth/authorization_request.py: ValidatedRequest.stored()).
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The sign-in (its sid) that satisfied the request when it came; None when it asked for a
    # new one, which then any sign-in of this browser since `created_at` is, except the one
    # it asked to replace (`stale_sid`: prompt=login, max_age).
    login_sid: Mapped[str | None] = mapped_column(String(64))
    stale_sid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
