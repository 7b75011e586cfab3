"""RFC 9068 JWT access tokens, and the opaque refresh tokens that ride along.

Every signature uses the key store's current key of the token's algorithm (the API's, else
the server's default; signing.py), read once per signature with its kid written beside it,
so that a rotation can never pair one key's kid with another key's signature.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator

from ..config import Settings
from ..hashing import new_secret
from ..keystore import KeyStore
from ..models import Client, RefreshTokenFamily, User
from ..store import Store
from ..store.roles import Holdings
from .resources import Target
from .signing import alg_for, sign


@dataclass
class Signed:
    """What the last access token signed in this context carries, for the audit line: taken
    from what was built, so nobody decodes the token just signed."""

    sub: str
    jti: str
    kid: str | None = None


_last_signed: ContextVar[Signed | None] = ContextVar("last_signed", default=None)
GRANT_CLAIM = "grant_id"


@dataclass(frozen=True)
class Issuing:
    """What the token being generated is for, set by the grant (grants/linked.py): its API
    (audience, scope, lifetime; resources.py) and, with a user, the grant (refresh token
    family) it belongs to, so the server's own endpoints can tell when that was revoked."""

    target: Target
    grant_id: str | None
    jkt: str | None = None  # the DPoP key the token is bound to (RFC 9449 §6)
    # RFC 9068 §2.2.3.1: the roles of the token's API (none: no claim), and the user's groups
    # when the `groups` scope was granted (else None: no claim).
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None


_issuing: ContextVar[Issuing | None] = ContextVar("issuing", default=None)


def last_signed() -> Signed | None:
    return _last_signed.get()


@contextmanager
def issuing(target: Target, grant_id: str | None, jkt: str | None = None,
            holdings: Holdings | None = None) -> Iterator[None]:
    """Tokens generated inside are for `target.api` with `target.scope`, carry `grant_id`
    (a private claim, RFC 7519 §4.3) when there is one, are DPoP-bound to `jkt` if given, and
    carry the roles and groups of `holdings`."""
    holdings = holdings or Holdings()
    reset = _issuing.set(Issuing(target, grant_id, jkt, holdings.roles, holdings.groups))
    try:
        yield
    finally:
        _issuing.reset(reset)


def grant_of(store: Store, claims: dict[str, Any]) -> RefreshTokenFamily | None:
    """The grant an access token names (None for machine tokens, or once pruned)."""
    grant_id = claims.get(GRANT_CLAIM)
    return store.refresh_tokens.grant(grant_id) if isinstance(grant_id, str) else None


def grant_revoked(grant: RefreshTokenFamily | None) -> bool:
    """Whether the token's grant was revoked since it was signed: a check only the server's
    own endpoints make (an API validating locally cannot)."""
    return grant is not None and grant.revoked_at is not None


def issues_refresh_token(client: Client, user: User | None) -> bool:
    """Refresh-token policy: only for grants with a user, and only to clients registered for
    the refresh_token grant (offline_access is accepted but not required)."""
    return user is not None and client.check_grant_type("refresh_token")


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens; refresh tokens only where the policy below allows them."""

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        super().__init__(
            issuer=settings.issuer,
            alg=settings.signing_algs[0],
            refresh_token_generator=lambda **_: new_secret(32),
            expires_generator=self._lifetime,
        )
        self.default_ttl = settings.access_token_ttl
        self.signing_algs = settings.signing_algs
        self.keystore = keystore

    def access_token_generator(self, client: Client, grant_type: str, user: User | None,
                               scope: str) -> str:
        """RFC 9068 §2.2's claims, as Authlib's generator makes them (it has no resource owner
        claims to add here), signed with the token's own algorithm: Authlib's signs with one
        algorithm per generator, through joserfc's registry of recommended ones only (no
        PS256, no EdDSA)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "exp": now + self._get_expires_in(client, grant_type),
            "client_id": client.get_client_id(), "iat": now,
            "jti": self.get_jti(client, grant_type, user, scope), "scope": scope,
            "sub": str(user.get_user_id()) if user else client.get_client_id(),
            "aud": self.get_audiences(client, user, scope),
        }
        claims.update(self.get_extra_claims(client, grant_type, user, scope))
        alg = alg_for(client, self._current().target.api.signing_alg, self.signing_algs)
        key = self.keystore.signing_key(alg)
        signed = _last_signed.get()
        if signed is not None:
            signed.kid = key.kid
        return sign(key, {"typ": "at+jwt"}, claims, alg)

    @staticmethod
    def _current() -> Issuing:
        current = _issuing.get()
        if current is None:
            raise RuntimeError("an access token generated outside issuing()")  # a bug, not input
        return current

    def _lifetime(self, client: Client, grant_type: str) -> int:
        ttl = self._current().target.api.access_token_ttl
        return ttl if ttl is not None else self.default_ttl

    def get_allowed_scope(self, client: Client, scope: str | None) -> str:  # type: ignore[override]
        # The grant checked the scope and chose the API (resources.py): the token carries that.
        return self._current().target.scope

    def get_audiences(self, client: Client, user: User | None, scope: str) -> str:
        return self._current().target.api.audience

    def get_extra_claims(self, client: Client, grant_type: str, user: User | None,
                         scope: str) -> dict[str, Any]:
        current = self._current()
        claims: dict[str, Any] = {}
        if current.grant_id is not None and user is not None:
            claims[GRANT_CLAIM] = current.grant_id
        if current.jkt is not None:
            claims["cnf"] = {"jkt": current.jkt}  # RFC 9449 §6.1
        if current.roles:
            claims["roles"] = list(current.roles)
        if current.groups is not None:
            claims["groups"] = list(current.groups)
        return claims

    def get_jti(self, client: Client, grant_type: str, user: User | None, scope: str) -> str:
        # 128 random bits in one call (Authlib's default draws each character separately).
        jti = secrets.token_urlsafe(16)
        # Authlib asks for the jti, then for the key, for each token it signs.
        _last_signed.set(Signed(sub=user.sub if user is not None else client.client_id, jti=jti))
        return jti

    def generate(  # type: ignore[override]
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        include_refresh_token = include_refresh_token and issues_refresh_token(client, user)
        _last_signed.set(None)
        token: dict[str, Any] = super().generate(
            grant_type, client, user, scope, expires_in, include_refresh_token
        )
        if self._current().jkt is not None:
            token["token_type"] = "DPoP"  # RFC 9449 §5
        return token
