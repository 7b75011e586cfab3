"""The authorization code grant with PKCE and OpenID Connect: storage hooks and our policies.

Authlib's AuthorizationCodeGrant, CodeChallenge and OpenIDCode do the protocol; this module
stores codes (hashed, single use), claims them atomically, and tightens PKCE to S256.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from sqlalchemy import select, update

from . import audit, db
from .config import Settings
from .hashing import hash_secret
from .keystore import KeyStore
from .models import AuthorizationCode, Client, RefreshTokenFamily, User
from .oauth2 import CONFIDENTIAL_AUTH_METHODS, check_scope
from .tokens import IDTokenIssuer


class StrictCodeChallenge(CodeChallenge):
    """RFC 7636 with RFC 9700 §2.1.1 policy: S256 only (never `plain`, which is also what an
    omitted method means), and required for public clients already at the authorization
    request, where Authlib would only notice at the token request."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        client: Client = grant.request.client
        if not challenge and client.is_public:
            raise InvalidRequestError("a public client must use PKCE (code_challenge, S256)")
        if challenge and method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 ('plain' is refused)")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.code_challenge_method


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
    AUTHORIZATION_CODE_LENGTH = 43  # 256 bits of base64url

    def __init__(self, request: Any, server: Any) -> None:
        super().__init__(request, server)
        self.register_hook("after_authorization_response", _add_issuer)

    def validate_requested_scope(self) -> None:
        check_scope(self.request.payload.scope, self.request.client, has_user=True)

    def save_authorization_code(self, code: str, request: Any) -> None:
        settings: Settings = request.settings
        data = request.payload.data
        now = int(time.time())
        db.session().add(
            AuthorizationCode(
                code_hash=hash_secret(code),
                client_id=request.client.client_id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=request.auth_time,
                created_at=now,
                expires_at=now + settings.authorization_code_ttl,
            )
        )
        db.session().commit()

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        session = db.session()
        found = session.scalar(
            select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_secret(code))
        )
        if found is None or found.client_id != client.client_id:
            return None
        if found.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice is denied, and the tokens already issued from
            # it are revoked (the code may have leaked to an attacker).
            session.execute(
                update(RefreshTokenFamily)
                .where(RefreshTokenFamily.authorization_code_id == found.id,
                       RefreshTokenFamily.revoked_at.is_(None))
                .values(revoked_at=int(time.time()))
            )
            session.commit()
            audit.event("authorization_code.replayed", "tokens_revoked", client_id=client.client_id,
                        code_fingerprint=audit.fingerprint(code))
            raise InvalidGrantError("authorization code already used; its tokens are revoked")
        if found.expires_at <= time.time():
            raise InvalidGrantError("authorization code has expired")
        claimed = session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == found.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=int(time.time()))
            .execution_options(synchronize_session=False)
        )
        if db.rows_changed(claimed) != 1:
            raise InvalidGrantError("authorization code already used")
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Authlib calls this once the tokens are issued: commit the claim (used_at) made in
        # query_authorization_code. The row stays, so that a replay is recognised.
        db.session().commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return authorization_code.user


def _add_issuer(grant: Any, response: Any) -> None:
    # RFC 9207 §2: every authorization response, errors included, names the issuer.
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = add_params_to_uri(
            location, [("iss", grant.request.settings.issuer)]
        )


class OpenIDCodeIssuer(IDTokenIssuer, OpenIDCode):
    """ID tokens for the code flow (nonce, auth_time from the code) plus OIDC request checks."""

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        IDTokenIssuer.__init__(self, settings, keystore)
        self.require_nonce = False

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # A nonce seen before from this client is a replayed authentication request.
        return (
            db.session().scalar(
                select(AuthorizationCode.id).where(
                    AuthorizationCode.client_id == request.payload.client_id,
                    AuthorizationCode.nonce == nonce,
                )
            )
            is not None
        )
