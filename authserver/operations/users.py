"""Users: create, change, set the password of, delete and list user accounts, and list and end
their sign-in sessions (`authserver user ...`, `/admin/v1/users`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..models import User
from ..store import Session
from ..store.idps import identities_of
from ..store.role_admin import holdings_of_user
from ..store.rows import every, save
from ..store.user_access import end_sessions as end_login_sessions
from ..store.user_access import live_sessions
from ..store.user_claims import PARSERS, ClaimError, check_claim
from ..store.user_claims import apply as apply_claims
from ..store.users import USERNAME_PATTERN, AccountError, check_password, find_user, user_to_dict
from ..store.users import create_user as store_create_user
from ..store.users import delete_user as store_delete_user
from ..store.users import set_password as store_set_password
from .errors import BadInput, Duplicate, NotFound
from .pages import Page, page

# The claims that are members of their own in a user (the API's fields); the rest are in
# `claims`. A refused value names its field.
OWN_FIELDS = ("email", "name", "email_verified")
# The API's bodies, with the JSON type of each field (the OpenAPI document is generated from
# these tables); `claims` is an object of the other standard claims (OIDC Core §5.1).
CREATE_FIELDS = {"username": "string", "password": "string", "email": "string",
                 "name": "string", "email_verified": "boolean", "claims": "object"}
UPDATE_FIELDS = {"email": "string", "name": "string", "email_verified": "boolean",
                 "claims": "object"}
PASSWORD_FIELDS = {"password": "string"}


def find(session: Session, username: str) -> User:
    # NUL never reaches the database (PostgreSQL refuses it in text): no user has it.
    found = find_user(session, username) if "\x00" not in username else None
    if found is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return found


def checked_claims(claims: dict[str, str]) -> dict[str, Any]:
    """Claim values as text (as `--claim NAME=VALUE` gives them; "" removes one), checked
    (OIDC Core §5.1)."""
    checked: dict[str, Any] = {}
    for name, raw in claims.items():
        try:
            checked[name] = check_claim(name, raw)
        except ClaimError as exc:
            raise BadInput(str(exc), field=name if name in OWN_FIELDS else "claims") from None
    return checked


def list_users(session: Session, *, limit: int | None = None,
               cursor: str | None = None) -> Page:
    return page(session, User, user_to_dict, limit=limit, cursor=cursor)


def every_user(session: Session) -> list[dict[str, Any]]:
    return [user_to_dict(u) for u in every(session, User, "id")]


def show_user(session: Session, username: str) -> dict[str, Any]:
    """Identity, standard claims, groups and roles (direct and through groups), identities at
    other providers."""
    found = find(session, username)
    data: dict[str, Any] = user_to_dict(found)
    data["groups"], data["roles"] = holdings_of_user(session, found)
    data["identities"] = identities_of(session, found)
    return data


def create_user(session: Session, *, username: str, password: str, email: str | None = None,
                name: str | None = None, claims: dict[str, str] | None = None,
                email_verified: bool = False, now: int) -> dict[str, Any]:
    """A new user; the password is stored as an argon2id hash."""
    checked = checked_claims(claims or {})
    if not USERNAME_PATTERN.fullmatch(username):
        raise BadInput("username must be 1-150 characters of letters, digits and . _ @ + -",
                       field="username")
    for field, value in (("email", email), ("name", name)):
        try:
            if value is not None:
                PARSERS[field](field, value)  # ("" too: a new user's value is no removal)
        except ClaimError as exc:
            raise BadInput(str(exc), field=field) from None
    if email_verified and email is None:
        raise BadInput("email_verified needs an email", field="email_verified")
    try:
        check_password(password)
    except AccountError as exc:
        raise BadInput(str(exc), field="password") from None
    if find_user(session, username) is not None:
        raise Duplicate(f"user {username!r} already exists", field="username")
    try:
        created = store_create_user(session, username=username, password=password, email=email,
                                    name=name)
    except AccountError as exc:  # (its checks are the ones above)
        raise BadInput(str(exc)) from None
    apply_claims(created, checked, now)
    created.email_verified = email_verified or bool(checked.get("email_verified"))
    _check_verified(created)
    save(session)
    return user_to_dict(created)


def update_user(session: Session, username: str, claims: dict[str, str], *,
                now: int) -> dict[str, Any]:
    """Change the claims given (email and name among them); nothing if any is refused."""
    checked = checked_claims(claims)
    found = find(session, username)
    apply_claims(found, checked, now)
    _check_verified(found)
    save(session)
    return user_to_dict(found)


def _check_verified(user: User) -> None:
    """After the claims are applied, whichever way they came (the top-level field, `claims`,
    `--claim`, an email removed beside it): a verified email needs an email. The caller's
    transaction is rolled back on the refusal, so nothing is written."""
    if user.email_verified and not user.email:
        raise BadInput("email_verified needs an email", field="email_verified")


def delete_user(session: Session, username: str) -> None:
    """The user, their refresh tokens and their notes."""
    store_delete_user(session, find(session, username))
    save(session)


def set_password(session: Session, username: str, password: str, *, now: int) -> int:
    """A new password; the user's sign-ins end and their refresh grants are revoked (how many
    is the answer)."""
    found = find(session, username)
    try:
        return store_set_password(session, found, password, now=now)
    except AccountError as exc:
        raise BadInput(str(exc), field="password") from None


def list_sessions(session: Session, username: str, *, now: int) -> Page:
    """The user's live sign-in sessions (a handful: one page)."""
    return Page([asdict(s) for s in live_sessions(session, find(session, username), now)], None)


def end_sessions(session: Session, username: str, *, now: int, sid: str | None = None) -> int:
    """End one live session (its sid) or all of them: the browser must sign in again. No
    back-channel logout is sent; the apps' refresh tokens stay valid."""
    found = find(session, username)
    if sid is not None and "\x00" in sid:
        raise NotFound(f"no live session {sid!r} of {username}", field="sid")
    ended = end_login_sessions(session, found, now, sid)
    if sid is not None and ended == 0:
        raise NotFound(f"no live session {sid!r} of {username}", field="sid")
    return ended
