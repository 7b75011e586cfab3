"""The authorization code grant (RFC 6749 §4.1) with PKCE and OpenID Connect: codes stored
hashed, claimed once; a replayed code revokes the tokens it led to."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.util import scope_to_list

from ... import events
from ...models import AuthorizationCode, Client, User
from ...policy import CONFIDENTIAL_AUTH_METHODS, check_scope
from ...store.codes import Claim
from .linked import IssuesTokens


class AuthorizationCodeGrant(IssuesTokens, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
    AUTHORIZATION_CODE_LENGTH = 43  # 256 bits of base64url

    def validate_requested_scope(self) -> None:
        """At /oauth/authorize: the scope (the resources it covers are ResourceIndicators',
        resources.py). An OpenID request leaves out the scopes nobody registered (OIDC Core
        §3.1.2.1)."""
        registry = self.server.store.apis.registry()
        data = self.request.payload.data
        requested = scope_to_list(data.get("scope")) or []
        if "openid" in requested:
            data["scope"] = " ".join(s for s in requested if s in registry.known_scopes)
        check_scope(data.get("scope"), self.request.client, has_user=True,
                    known=registry.known_scopes)

    def save_authorization_code(self, code: str, request: Any) -> None:
        """The code, and the client added to the sign-in session's (whom its logout tells)."""
        data = request.payload.data
        login_session = request.login_session
        self.server.store.login_sessions.add_client(login_session, request.client.client_id)
        self.server.store.codes.save(
            code,
            client_id=request.client.client_id,
            user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=login_session.auth_time,
            claims=request.requested_claims,
            sid=login_session.sid,
            resources=request.resources,
            dpop_jkt=data.get("dpop_jkt"),
            amr=login_session.amr,
            ttl=request.client.security_profile.code_lifetime(
                self.server.settings.authorization_code_ttl),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """Claims the code (single use) as it finds it: the claim must be atomic with the check
        that it was not used yet. Authlib's delete_authorization_code then has nothing to do."""
        outcome, found = self.server.store.codes.claim(code, client.client_id)
        if outcome is Claim.REPLAYED:
            # RFC 6749 §4.1.2: "If an authorization code is used more than once, the
            # authorization server MUST deny the request and SHOULD revoke (when possible) all
            # tokens previously issued based on that authorization code."
            events.record("authorization_code.replayed", "tokens_revoked",
                          client_id=client.client_id, code_fingerprint=events.fingerprint(code))
            raise InvalidGrantError("authorization code already used; its tokens are revoked")
        if outcome is Claim.EXPIRED:
            raise InvalidGrantError("authorization code has expired")
        if outcome is Claim.RACED:
            raise InvalidGrantError("authorization code already used")
        return found  # None for an unknown code: Authlib answers invalid_grant

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # The row stays (used_at set by the claim), so that a replay is recognised; the claim
        # is committed with the rest of the token response.
        pass

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return authorization_code.user
