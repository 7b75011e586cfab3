"""Token issuance: RFC 9068 JWT access tokens, OIDC ID tokens, opaque refresh tokens.

Only this module builds claims. Every signature uses the key store's single-key signing set:
joserfc writes the `kid` header only when it picks the key from a KeySet, and resolving the set
once per signature means a rotation can never pair one key's kid with another key's signature.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDToken
from authlib.oidc.core.grants.util import is_openid_scope
from joserfc.jwk import KeySet

from .config import Settings
from .hashing import new_secret
from .keystore import KeyStore
from .models import Client, User

SIGNING_ALG = "RS256"
# Scopes that only mean something when a user is behind the token.
USER_ONLY_SCOPES = frozenset({"openid", "offline_access"})


def user_claims(user: User, scope: str) -> UserInfo:
    """The identity claims the granted scope allows (OIDC Core §5.4)."""
    scopes = set(scope.split()) if scope else set()
    info = UserInfo(sub=user.sub)
    if "profile" in scopes:
        info["preferred_username"] = user.username
        if user.name:
            info["name"] = user.name
    if "email" in scopes and user.email:
        info["email"] = user.email
        # No verification flow exists, so we never claim an address is verified.
        info["email_verified"] = False
    return info


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens; refresh tokens only where the policy below allows them."""

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        super().__init__(
            issuer=settings.issuer,
            alg=SIGNING_ALG,
            refresh_token_generator=lambda **_: new_secret(32),
            expires_generator=lambda client, grant_type: settings.access_token_ttl,
        )
        self.audience = settings.api_audience
        self.keystore = keystore

    def get_jwks(self) -> KeySet:
        return self.keystore.signing_keyset()

    def get_audiences(self, client: Client, user: User | None, scope: str) -> str:
        return self.audience

    def get_jti(self, client: Client, grant_type: str, user: User | None, scope: str) -> str:
        # 128 random bits in one call (Authlib's default draws each character separately).
        return secrets.token_urlsafe(16)

    def generate(  # type: ignore[override]
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        # Refresh-token policy: only for grants with a user, and only to clients registered for
        # the refresh_token grant (offline_access is accepted but not required).
        include_refresh_token = (
            include_refresh_token and user is not None and client.check_grant_type("refresh_token")
        )
        if not scope and user is None:
            # Without a user the default scope is what the client may have, less the scopes
            # that only mean something for a user.
            scope = " ".join(s for s in client.scope.split() if s not in USER_ONLY_SCOPES)
        return super().generate(
            grant_type, client, user, scope, expires_in, include_refresh_token
        )


class IDTokenIssuer(OpenIDToken):
    """Adds an OIDC ID token to token responses whose scope includes `openid` and that have a user.

    Registered on the password, refresh_token and authorization_code grants.
    """

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        self.settings = settings
        self.keystore = keystore

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return self.keystore.signing_keyset()

    def get_client_algorithm(self, client: Client) -> str:
        return SIGNING_ALG

    def get_encode_header(self, client: Client) -> dict[str, str]:
        # No kid here: joserfc sets it from the one key of the signing set (see module docstring).
        return {"alg": SIGNING_ALG}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {
            "iss": self.settings.issuer,
            "aud": client.get_client_id(),
            "exp": int(time.time()) + self.settings.id_token_ttl,
        }

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        claims = super().get_compatible_claims(request)
        # A refreshed ID token keeps the time the user really authenticated (OIDC Core §12.2).
        refresh_token = getattr(request, "refresh_token", None)
        if refresh_token is not None:
            claims["auth_time"] = refresh_token.family.auth_time
        return claims

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_claims(user, scope)

    def process_token(self, grant: Any, response: Any) -> Any:
        if grant.request.user is None or not is_openid_scope(response[1].get("scope")):
            return response[1]
        return super().process_token(grant, response)
