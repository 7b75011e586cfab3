"""What people do to their own accounts (sign-up, verification, reset, the account page): the
statements behind each, so the web layer never sees SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from ..models import Client, Consent, LoginSession, RefreshTokenFamily, User
from .refresh_tokens import _revoke_families
from .users import create_user, set_password

if TYPE_CHECKING:
    from . import Store


class SelfService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def by_email(self, email: str) -> list[User]:
        """The users with this address (compared without case: mail servers do)."""
        return list(self.store.session().scalars(
            select(User).where(func.lower(User.email) == email.lower()).order_by(User.id)))

    def sign_up(self, username: str, email: str, password: str) -> User:
        """A new user who signs in once the address is verified (AccountError: why not)."""
        session = self.store.begin_write()
        user = create_user(session, username=username, password=password, email=email)
        user.verify_before_sign_in = True
        return user

    def verify_email(self, user: User, email: str) -> None:
        """The address a link was opened from becomes the user's, verified."""
        self.store.begin_write()
        user.email = email
        user.email_verified = True

    def set_password(self, user: User, password: str) -> int:
        """A new password: every sign-in, refresh family and mailed link of the user ends
        (AccountError when the password breaks the rules; nothing written then)."""
        return set_password(self.store.begin_write(), user, password, now=self.store.now())

    def sessions(self, user: User) -> list[LoginSession]:
        now = self.store.now()
        return list(self.store.session().scalars(
            select(LoginSession).where(LoginSession.user_id == user.id,
                                       LoginSession.ended_at.is_(None),
                                       LoginSession.expires_at > now)
            .order_by(LoginSession.auth_time.desc())))

    def end_sessions(self, user: User, *, only_sid: str | None = None,
                     except_sid: str | None = None) -> int:
        """End one of the user's sign-ins (by its public sid), or all but one."""
        which = [LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)]
        if only_sid is not None:
            which.append(LoginSession.sid == only_sid)
        if except_sid is not None:
            which.append(LoginSession.sid != except_sid)
        result = self.store.begin_write().execute(
            update(LoginSession).where(*which).values(ended_at=self.store.now())
            .execution_options(synchronize_session=False))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def apps(self, user: User) -> list[tuple[Client, Consent]]:
        """The clients the user consented to, with what they allowed."""
        rows = self.store.session().execute(
            select(Client, Consent).join(Consent, Consent.client_id == Client.client_id)
            .where(Consent.user_id == user.id).order_by(Client.name))
        return [(client, consent) for client, consent in rows]

    def revoke_app(self, user: User, client_id: str) -> bool:
        """Forget the consent and revoke that client's refresh families of the user."""
        session = self.store.begin_write()
        consent = session.scalar(select(Consent).where(Consent.user_id == user.id,
                                                       Consent.client_id == client_id))
        if consent is None:
            return False
        session.delete(consent)
        _revoke_families(session, (RefreshTokenFamily.user_id == user.id)
                         & (RefreshTokenFamily.client_id == client_id), self.store.now())
        return True
