"""User accounts: creation, password changes, lookup."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .db import rows_changed
from .hashing import hash_password
from .models import Note, RefreshTokenFamily, User, now

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{1,150}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class AccountError(ValueError):
    """A user operation that cannot be done; the message says why."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    email: str | None = None,
    name: str | None = None,
) -> User:
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "username must be 1-150 characters of letters, digits and . _ @ + -"
        )
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        raise AccountError(f"email {email!r} is not an email address")
    _check_password(password)
    if find_user(session, username) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, email=email, name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> int:
    """Change the password and revoke the user's refresh tokens (a password change is often a
    response to a compromise). Returns how many grants were revoked."""
    _check_password(password)
    user.password_hash = hash_password(password)
    result = session.execute(
        update(RefreshTokenFamily)
        .where(RefreshTokenFamily.user_id == user.id, RefreshTokenFamily.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return rows_changed(result)


def delete_user(session: Session, user: User) -> None:
    """Remove the user and what is theirs (refresh token families go by ON DELETE CASCADE)."""
    session.execute(delete(Note).where(Note.owner_sub == user.sub))
    session.delete(user)


def user_to_dict(user: User) -> dict[str, object]:
    return {
        "sub": user.sub,
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "created_at": user.created_at,
    }
