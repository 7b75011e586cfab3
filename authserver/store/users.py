"""User accounts: sign-in checks for requests, and creation, password changes and removal for
the operator's CLI."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ..hashing import hash_password, password_matches, password_needs_rehash
from ..models import Note, User
from .account_links import void_user_links
from .login_sessions import end_user_sessions
from .refresh_tokens import revoke_user_families
from .user_claims import PARSERS, ClaimError

if TYPE_CHECKING:
    from . import Store

# fullmatch, not match with "$": "$" also matches before a trailing newline.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._@+-]{1,150}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_USER_BY_SUB = select(User).where(User.sub == bindparam("sub"))
_USER_BY_USERNAME = select(User).where(User.username == bindparam("username"))


class AccountError(ValueError):
    """A user operation that cannot be done; the message says why."""


class Users:
    def __init__(self, store: Store) -> None:
        self.store = store

    def by_sub(self, sub: str) -> User | None:
        return self.store.session().scalar(_USER_BY_SUB, {"sub": sub})

    def authenticate(self, username: str, password: str) -> User | None:
        """The user whose password this is, or None. The one password check of the server (the
        password grant and the login form): argon2 runs in full even for an unknown username
        (so a miss costs as much as a wrong password), and no write lock is held meanwhile.
        A hash made with weaker parameters than today's is replaced and committed at once:
        it is the right password, whatever becomes of the rest of the request."""
        user = self.store.session().scalar(_USER_BY_USERNAME, {"username": username}) \
            if username else None
        if not password_matches(password, user.password_hash if user else None) or user is None:
            return None
        if password_needs_rehash(user.password_hash):
            self.store.begin_write()
            user.password_hash = hash_password(password)
            self.store.commit()
        return user


def check_password(password: str) -> None:
    """The password rules of `user create` (AccountError: which one is broken)."""
    _check_password(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(_USER_BY_USERNAME, {"username": username})


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    email: str | None = None,
    name: str | None = None,
) -> User:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(
            "username must be 1-150 characters of letters, digits and . _ @ + -"
        )
    try:
        # The same rules as `user update --claim email=... / name=...`.
        if email is not None:
            PARSERS["email"]("email", email)
        if name is not None:
            PARSERS["name"]("name", name)
    except ClaimError as exc:
        raise AccountError(str(exc)) from None
    _check_password(password)
    if find_user(session, username) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, email=email, name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str, *, now: int) -> int:
    """Change the password, end the user's sign-ins, void their mailed links and revoke their
    refresh tokens (a password change is often a response to a compromise). Returns how many
    grants were revoked."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_user_sessions(session, user.id, now)
    void_user_links(session, user.id, now)
    return revoke_user_families(session, user.id, now)


def delete_user(session: Session, user: User) -> None:
    """Remove the user and what is theirs (refresh token families go by ON DELETE CASCADE)."""
    session.execute(delete(Note).where(Note.owner_sub == user.sub))
    session.delete(user)


def user_to_dict(user: User) -> dict[str, object]:
    return {
        "sub": user.sub,
        "username": user.username,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "name": user.name,
        "claims": dict(user.claims or {}),
        "created_at": user.created_at,
    }
