"""Which local user an upstream identity signs in as (INTERFACE.md, federation): the one
linked to (provider, sub); else, when the provider allows linking by email, the local user
whose verified email is the upstream's verified email; else a new user made just in time,
unless the provider forbids it."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..models import IdentityProvider, User
from .user_claims import PARSERS, ClaimError, apply, claims_of
from .users import USERNAME_PATTERN, find_user

if TYPE_CHECKING:
    from . import Store

# No password: password_matches() never accepts an empty hash (hashing.py), so such a user
# signs in only through a provider (or after an operator sets a password).
NO_PASSWORD = ""


class Outcome(Enum):
    LINKED = "linked"  # a returning identity
    LINKED_BY_EMAIL = "linked_by_email"
    CREATED = "created"
    NO_ACCOUNT = "no_account"  # --no-create-users and nobody to link to


def _verified(value: Any) -> bool:
    return value is True or value == "true"  # some providers send it as a string


def _copied_claims(upstream: dict[str, Any]) -> dict[str, Any]:
    """The standard claims of the upstream ID token that pass our checks (user_claims.py);
    one that does not is left out rather than failing the sign-in."""
    copied: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        value = upstream.get(name)
        if value is None:
            continue
        raw = json.dumps(value) if isinstance(value, (dict, bool)) else str(value)
        try:
            copied[name] = parse(name, raw)
        except ClaimError:
            continue
    return copied


def _username(store: Store, upstream: dict[str, Any]) -> str:
    """preferred_username, else the email, else "user"; kept to our pattern and made unique
    with a number."""
    wanted = str(upstream.get("preferred_username") or upstream.get("email") or "user")
    base = re.sub(r"[^A-Za-z0-9._@+-]", "", wanted)[:140] or "user"
    session = store.session()
    candidate, number = base, 1
    while find_user(session, candidate) is not None:
        number += 1
        candidate = f"{base}-{number}"
    assert USERNAME_PATTERN.fullmatch(candidate)
    return candidate


def resolve(store: Store, idp: IdentityProvider, upstream: dict[str, Any]) -> tuple[User | None, Outcome]:
    """The local user for these verified upstream claims, linking or creating as the provider
    allows (in the request's transaction)."""
    sub = upstream["sub"]
    linked = store.idps.linked_user(idp, sub)
    if linked is not None:
        return linked, Outcome.LINKED
    email = upstream.get("email")
    if idp.link_by_email and isinstance(email, str) and _verified(upstream.get("email_verified")):
        for candidate in store.session().scalars(select(User).where(User.email == email)):
            if _verified(claims_of(candidate).get("email_verified")):
                store.idps.link(candidate, idp, sub)
                return candidate, Outcome.LINKED_BY_EMAIL
    if not idp.create_users:
        return None, Outcome.NO_ACCOUNT
    session = store.begin_write()
    user = User(username=_username(store, upstream), password_hash=NO_PASSWORD)
    session.add(user)
    apply(user, _copied_claims(upstream), store.now())
    if "email" in user.claims or user.email:
        user.claims = {**user.claims, "email_verified": _verified(upstream.get("email_verified"))}
    session.flush()
    store.idps.link(user, idp, sub)
    return user, Outcome.CREATED
