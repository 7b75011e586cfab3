"""Hashes for what the server stores: random secrets (SHA-256) and user passwords (argon2id)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with the first of OWASP's recommended configurations (Password Storage Cheat Sheet,
# "Argon2id": m=47104 KiB (46 MiB), t=1, p=1; its equivalents trade memory for passes, down
# to 19 MiB with t=2). One lane: a sign-in takes one core, however many the machine has, so
# sign-ins per core is a number an operator can size by (docs/sizing.md). A stored hash with
# other parameters (argon2-cffi's former default t=3, m=64 MiB, p=4) still verifies, and is
# rehashed with these at its next successful sign-in (password_needs_rehash).
PASSWORD_TIME_COST, PASSWORD_MEMORY_KIB, PASSWORD_PARALLELISM = 1, 47104, 1

# The test suite only (tests/conftest.py sets it): the slow hashes at their cheapest, argon2id
# for passwords at t=1, m=1 MiB, p=1 (2 ms a hash) and scrypt for sealed signing keys at
# n=2^10 (keystore/sealing.py): together minutes of a test run. Both record their parameters
# in the hash, so either kind still verifies under the other. `serve` refuses to start with it
# behind an https issuer (cli/serve.py); a password hash made with it is replaced at the next
# sign-in by a server without it (password_needs_rehash).
FAST_HASHING_VARIABLE = "AUTHSERVER_TEST_FAST_HASHING"


def fast_hashing() -> bool:
    return os.environ.get(FAST_HASHING_VARIABLE, "") == "1"


def production_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=PASSWORD_TIME_COST, memory_cost=PASSWORD_MEMORY_KIB,
                          parallelism=PASSWORD_PARALLELISM)


@functools.cache
def _password_hasher() -> PasswordHasher:
    """Chosen once per process, at the first password hashed or checked."""
    if fast_hashing():
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return production_hasher()


@functools.cache
def _dummy_password_hash() -> str:
    """Checked against when the username is unknown, so that a miss costs as much as a wrong
    password. Made on first use, not at import: every CLI call would pay for it."""
    return _password_hasher().hash(secrets.token_urlsafe(16))


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
    return _password_hasher().hash(password)


def password_matches(password: str, stored_hash: str | None) -> bool:
    """Constant-time with respect to whether the user exists (pass None for an unknown user)."""
    try:
        return _password_hasher().verify(stored_hash or _dummy_password_hash(), password) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    return _password_hasher().check_needs_rehash(stored_hash)
