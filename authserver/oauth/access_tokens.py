"""RFC 9068 JWT access tokens, and the opaque refresh tokens that ride along.

Every signature uses the key store's current key of the token's algorithm (the API's, else
the server's default; signing.py), read once per signature with its kid written beside it,
so that a rotation can never pair one key's kid with another key's signature.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

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
    """What an access token just signed carries, for the audit line: taken from what was
    built, so nobody decodes the token just signed."""

    sub: str
    jti: str
    kid: str | None = None


GRANT_CLAIM = "grant_id"


@dataclass(frozen=True)
class Issuing:
    """What a token is for, said by the grant (grants/linked.py): its API (audience, scope,
    lifetime; resources.py) and, with a user, the grant (refresh token family) it belongs to,
    so the server's own endpoints can tell when that was revoked."""

    target: Target
    grant_id: str | None
    jkt: str | None = None  # the DPoP key the token is bound to (RFC 9449 §6)
    # RFC 9068 §2.2.3.1: the roles of the token's API (none: no claim), and the user's groups
    # when the `groups` scope was granted (else None: no claim).
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    # The clock reading that started the token's grant in this request (None: no grant was
    # started): the token's iat and exp count from it, so a grant that lives as long as its
    # token cannot end a second before it when a second turns over in between.
    issued_at: int | None = None


def issuing(target: Target, grant_id: str | None, jkt: str | None = None,
            holdings: Holdings | None = None, issued_at: int | None = None) -> Issuing:
    """A token for `target.api` with `target.scope`, carrying `grant_id` (a private claim,
    RFC 7519 §4.3) when there is one, DPoP-bound to `jkt` if given, with the roles and groups
    of `holdings`, issued at `issued_at` (the grant's start) or now."""
    holdings = holdings or Holdings()
    return Issuing(target, grant_id, jkt, holdings.roles, holdings.groups, issued_at)


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


class AccessTokenGenerator:
    """RFC 9068 access tokens; refresh tokens only where the policy below allows them.

    Written after Authlib's JWTBearerTokenGenerator, which asks its own overridable methods
    what a token is for (scope, audience, claims) and so needs that in a global while it
    runs; here each call says it (`Issuing`), and one generator serves every request."""

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        self.issuer = settings.issuer
        self.default_ttl = settings.access_token_ttl
        self.signing_algs = settings.signing_algs
        self.keystore = keystore

    def issue(self, grant_type: str, client: Client, user: User | None, issuing: Issuing,
              expires_in: int | None = None, include_refresh_token: bool = True,
              ) -> tuple[dict[str, Any], Signed]:
        """The token response's tokens (as Authlib's BearerTokenGenerator.generate builds
        them) and what its access token carries."""
        include_refresh_token = include_refresh_token and issues_refresh_token(client, user)
        scope = issuing.target.scope  # the grant checked it and chose the API (resources.py)
        access_token, signed = self.access_token(client, grant_type, user, issuing)
        token: dict[str, Any] = {
            "token_type": "DPoP" if issuing.jkt is not None else "Bearer",  # RFC 9449 §5
            "access_token": access_token,
        }
        if expires_in is None:
            expires_in = self.lifetime(issuing)
        if expires_in:
            token["expires_in"] = expires_in
        if include_refresh_token:
            token["refresh_token"] = new_secret(32)
        if scope:
            token["scope"] = scope
        return token, signed

    def lifetime(self, issuing: Issuing) -> int:
        ttl = issuing.target.api.access_token_ttl
        return ttl if ttl is not None else self.default_ttl

    def access_token(self, client: Client, grant_type: str, user: User | None,
                     issuing: Issuing) -> tuple[str, Signed]:
        """RFC 9068 §2.2's claims, as Authlib's generator makes them (it has no resource owner
        claims to add here), signed with the token's own algorithm: Authlib's signs with one
        algorithm per generator, through joserfc's registry of recommended ones only (no
        PS256, no EdDSA)."""
        now = issuing.issued_at if issuing.issued_at is not None else int(time.time())
        # 128 random bits in one call (Authlib's default draws each character separately).
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            "iss": self.issuer, "exp": now + self.lifetime(issuing),
            "client_id": client.get_client_id(), "iat": now,
            "jti": jti, "scope": issuing.target.scope,
            "sub": str(user.get_user_id()) if user else client.get_client_id(),
            "aud": issuing.target.api.audience,
        }
        claims.update(self.extra_claims(user, issuing))
        alg = alg_for(client, issuing.target.api.signing_alg, self.signing_algs)
        key = self.keystore.signing_key(alg)
        signed = Signed(sub=user.sub if user is not None else client.client_id, jti=jti,
                        kid=key.kid)
        return sign(key, {"typ": "at+jwt"}, claims, alg), signed

    @staticmethod
    def extra_claims(user: User | None, issuing: Issuing) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        if issuing.grant_id is not None and user is not None:
            claims[GRANT_CLAIM] = issuing.grant_id
        if issuing.jkt is not None:
            claims["cnf"] = {"jkt": issuing.jkt}  # RFC 9449 §6.1
        if issuing.roles:
            claims["roles"] = list(issuing.roles)
        if issuing.groups is not None:
            claims["groups"] = list(issuing.groups)
        return claims
