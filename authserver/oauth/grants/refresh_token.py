"""The refresh token grant (RFC 6749 §6), rotated on every use; a reused token revokes its
whole family (RFC 9700 §4.14.2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from ... import events
from ...hashing import new_secret
from ...models import RefreshToken, User
from ...policy import CONFIDENTIAL_AUTH_METHODS
from ...store.refresh_claim import ClaimedToken
from .linked import IssuesTokens


class RefreshTokenGrant(IssuesTokens, grants.RefreshTokenGrant):
    # Public clients (code flow with PKCE) refresh too; they are bound by the token's client_id.
    TOKEN_ENDPOINT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
    # Rotate on every use (RFC 9700 §4.14.2).
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | ClaimedToken:
        """Find the token and claim its family's next generation, in one step: Authlib's
        contract separates lookup and revoke_old_credential, but the claim must be atomic with
        the check that this token is the live one."""
        store = self.server.store
        lifetimes = self.server.refresh_lifetimes
        least_grace = self.request.client.security_profile.refresh_grace
        if lifetimes.grace < least_grace:
            lifetimes = replace(lifetimes, grace=least_grace)
        client_id = self.request.client.client_id
        # The successor is made before the claim, so the claim can store it in the same
        # statement (PostgreSQL); the response then carries this one (generate_token).
        successor = new_secret(32)
        live = store.refresh_tokens.claim_live(refresh_token, client_id, lifetimes, successor)
        if live is not None:
            self.request.claimed_generation = live.family.generation
            self.request.stored_successor = successor
            return live
        token = store.refresh_tokens.find_to_rotate(refresh_token)
        if token is None:
            raise InvalidGrantError("unknown refresh token")
        if token.client_id != client_id:
            raise InvalidGrantError("refresh token was issued to another client")
        if token.family.revoked_at is not None:
            raise InvalidGrantError("refresh token has been revoked")
        if token.is_expired(store.now()):
            raise InvalidGrantError("refresh token has expired")
        if lifetimes.family_too_old(store.now(), token.family.created_at):
            raise InvalidGrantError("this grant has reached its maximum age; sign in again")
        claimed = store.refresh_tokens.claim(token, lifetimes)
        if claimed is None:
            self._reject_reuse(token)
        self.request.claimed_generation = claimed
        return token

    def generate_token(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        token = super().generate_token(*args, **kwargs)
        stored = getattr(self.request, "stored_successor", None)
        if stored is not None:
            # Stored with the claim already (claim_live); the response carries that one.
            token["refresh_token"] = stored
        return token

    def _reject_reuse(self, token: RefreshToken) -> None:
        # A rotated token came back, or two requests presented one token at once: someone may
        # hold a copy, and we cannot tell who is legitimate, so the whole family is revoked
        # (RFC 9700 §4.14.2), and that stands although this request fails.
        # AUTHSERVER_REFRESH_GRACE_SECONDS forgives one retry.
        store = self.server.store
        store.refresh_tokens.revoke_family(token.family_id)
        store.commit()
        events.record("refresh_token.reuse_detected", "family_revoked",
                      client_id=token.client_id, family=token.family_id, sub=token.family.user.sub)
        raise InvalidGrantError("refresh token already used; its grant has been revoked")

    def grant_id_for(self, user: User, scope: str, resources: list[str], access_ttl: int) -> str:
        return self.request.refresh_token.family_id  # type: ignore[no-any-return]

    def authenticate_user(self, refresh_token: RefreshToken | ClaimedToken) -> User:
        return refresh_token.family.user

    def revoke_old_credential(self, refresh_token: RefreshToken | ClaimedToken) -> None:
        # Nothing left to do: authenticate_refresh_token already claimed the family.
        pass
