"""RFC 7662 introspection and RFC 7009 revocation, for JWT access tokens and refresh tokens.

Each is two Authlib endpoints registered under one name: the JWT one (Authlib's RFC 9068
classes) answers for access tokens and passes anything else on to the refresh-token one.
A client may introspect and revoke only the tokens issued to it.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import UnsupportedTokenTypeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTIntrospectionEndpoint, JWTRevocationEndpoint
from joserfc.jwk import KeySet
from sqlalchemy import select

from . import audit, db
from .hashing import hash_secret
from .keystore import KeyStore
from .models import Client, RefreshToken, User
from .oauth2 import CONFIDENTIAL_AUTH_METHODS, revoke_family

CONFIDENTIAL = CONFIDENTIAL_AUTH_METHODS


def find_refresh_token(raw: str) -> RefreshToken | None:
    return db.session().scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(raw)))


class AccessTokenIntrospection(JWTIntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL

    def __init__(self, issuer: str, keystore: KeyStore) -> None:
        super().__init__(issuer=issuer)
        self.keystore = keystore

    def get_jwks(self) -> KeySet:
        return self.keystore.public_keyset()

    def check_permission(self, token: Any, client: Client, request: Any) -> bool:
        return bool(token.get("client_id") == client.client_id)

    def get_username(self, user_id: str) -> str | None:
        return db.session().scalar(select(User.username).where(User.sub == user_id))


class RefreshTokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        if token_type_hint == "access_token":
            return None
        return find_refresh_token(token_string)

    def check_permission(self, token: RefreshToken, client: Client, request: Any) -> bool:
        return token.check_client(client)

    def create_introspection_payload(self, token: RefreshToken | None) -> dict[str, Any]:
        # A rotated-away token is as dead as a revoked one.
        if token is None or not token.is_live:
            return {"active": False}
        return self.introspect_token(token)

    def introspect_token(self, token: RefreshToken) -> dict[str, Any]:
        user = token.family.user
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": token.client_id,
            "scope": token.scope,
            "sub": user.sub,
            "username": user.username,
            "iat": token.issued_at,
            "exp": token.expires_at,
        }


class UnsupportedTokenType(OAuth2Error):
    # RFC 7009 §2.2.1 errors are RFC 6749 §5.2 responses: 400 (Authlib's class answers 401).
    error = "unsupported_token_type"
    status_code = 400


class AccessTokenRevocation(JWTRevocationEndpoint):
    """Self-contained access tokens cannot be revoked (RFC 7009 §2.2.1 unsupported_token_type);
    they are short-lived, and revoking the refresh token stops their renewal."""

    CLIENT_AUTH_METHODS = [*CONFIDENTIAL, "none"]

    def __init__(self, issuer: str, keystore: KeyStore) -> None:
        super().__init__(issuer=issuer)
        self.keystore = keystore

    def get_jwks(self) -> KeySet:
        return self.keystore.public_keyset()

    def authenticate_token(self, request: Any, client: Client) -> Any:
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenType(f"unknown token_type_hint {hint!r}")
        try:
            return super().authenticate_token(request, client)
        except UnsupportedTokenTypeError:
            raise UnsupportedTokenType("access tokens cannot be revoked; they expire") from None


class RefreshTokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*CONFIDENTIAL, "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        return find_refresh_token(token_string)

    def revoke_token(self, token: RefreshToken, request: Any) -> None:
        # Revoking one refresh token revokes its whole family (every rotation of the grant).
        revoke_family(token.family_id)
        db.session().commit()
        audit.event("token.revoked", client_id=token.client_id, family=token.family_id,
                    sub=token.family.user.sub)
