"""Mailed links (verify an address, reset a password): issued, checked, used once.

Only a token's SHA-256 is stored. A newer link of the same purpose voids the older ones, and a
password change voids them all (`void_user_links`), so a link in an old mail never outlives
what it was for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..db import rows_changed
from ..hashing import hash_secret, new_secret
from ..models import AccountLink, User

if TYPE_CHECKING:
    from . import Store

# Why a link cannot be used; the page says which, plainly.
UNKNOWN, USED, EXPIRED, VOIDED = "unknown", "used", "expired", "voided"


def void_user_links(session: Session, user_id: int, now: int, purpose: str | None = None) -> None:
    """Void the user's live links (of one purpose, or all of them: a password change)."""
    which = [AccountLink.user_id == user_id, AccountLink.used_at.is_(None),
             AccountLink.voided_at.is_(None)]
    if purpose is not None:
        which.append(AccountLink.purpose == purpose)
    session.execute(update(AccountLink).where(*which).values(voided_at=now)
                    .execution_options(synchronize_session=False))


def issue_link(session: Session, user: User, purpose: str, email: str, lifetime: int,
               now: int) -> str:
    """A new link's token (for the mail only); the user's older links of this purpose are void
    from now on."""
    void_user_links(session, user.id, now, purpose)
    token = new_secret(32)
    session.add(AccountLink(token_hash=hash_secret(token), user_id=user.id, purpose=purpose,
                            email=email, created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


class AccountLinks:
    def __init__(self, store: Store) -> None:
        self.store = store

    def issue(self, user: User, purpose: str, email: str, lifetime: int) -> str:
        """A new link's token (for the mail only); the user's older links of this purpose are
        void from now on. Left for the request to commit."""
        return issue_link(self.store.begin_write(), user, purpose, email, lifetime,
                          self.store.now())

    def check(self, token: str, purpose: str) -> tuple[AccountLink | None, str | None]:
        """The live link, or None and why it cannot be used."""
        found = self.store.session().get(AccountLink, hash_secret(token)) if token else None
        if found is None or found.purpose != purpose:
            return None, UNKNOWN
        if found.used_at is not None:
            return None, USED
        if found.voided_at is not None:
            return None, VOIDED
        if found.expires_at <= self.store.now():
            return None, EXPIRED
        return found, None

    def use(self, token: str, purpose: str) -> tuple[AccountLink | None, str | None]:
        """Spend the link once: of two requests with the same link, one wins (the UPDATE that
        marks it used matches one row only once)."""
        found, problem = self.check(token, purpose)
        if found is None:
            return None, problem
        session = self.store.begin_write()
        result = session.execute(
            update(AccountLink)
            .where(AccountLink.token_hash == found.token_hash, AccountLink.used_at.is_(None),
                   AccountLink.voided_at.is_(None))
            .values(used_at=self.store.now())
            .execution_options(synchronize_session=False))
        if rows_changed(result) != 1:
            return None, USED
        return found, None
