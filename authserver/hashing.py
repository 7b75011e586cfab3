"""Hashes for what the server stores: random secrets (SHA-256) and user passwords (argon2id)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended option (argon2id, t=3, m=64 MiB, p=4).
_password_hasher = PasswordHasher()


@functools.cache
def _dummy_password_hash() -> str:
    """Checked against when the username is unknown, so that a miss costs as much as a wrong
    password. Made on first use, not at import: every CLI call would pay for it."""
    return _password_hasher.hash(secrets.token_urlsafe(16))



def new_secret(nbytes: int = 32) -> str:
    """A random, URL-safe secret with `nbytes` of entropy (client secrets, refresh tokens, codes)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    # High-entropy random secrets need no slow hash: SHA-256 is preimage-resistant for them,
    # and a slow hash here is what makes client authentication the bottleneck.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def password_matches(password: str, stored_hash: str | None) -> bool:
    """Constant-time with respect to whether the user exists (pass None for an unknown user)."""
    try:
        return _password_hasher.verify(stored_hash or _dummy_password_hash(), password) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(stored_hash)
