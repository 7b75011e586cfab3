"""Token revocation (RFC 7009). Revoking a refresh token revokes its whole grant (every
rotation of it); self-contained access tokens cannot be revoked (§2.2.1): they are
short-lived, and revoking the refresh token stops their renewal."""

from __future__ import annotations

from typing import Any

from authlib.common.errors import ContinueIteration
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint

from .. import events
from ..models import Client, RefreshToken
from ..policy import CONFIDENTIAL_AUTH_METHODS, shown
from ..resource_server import AccessTokenValidator
from ..store import Store

SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")


class UnsupportedTokenType(OAuth2Error):
    # RFC 7009 §2.2.1 errors are RFC 6749 §5.2 responses: 400 (Authlib's class answers 401).
    error = "unsupported_token_type"
    status_code = 400


class AccessTokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]

    def __init__(self, validator: AccessTokenValidator) -> None:
        super().__init__()
        self.validator = validator

    def authenticate_token(self, request: Any, client: Client) -> Any:
        hint = request.form.get("token_type_hint")
        if hint and hint not in SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenType(f"unknown token_type_hint '{shown(hint)}'")
        self.check_params(request, client)
        try:
            self.validator.authenticate_token(request.form["token"])
        except InvalidTokenError:
            raise ContinueIteration() from None  # not an access token of ours
        raise UnsupportedTokenType("access tokens cannot be revoked; they expire")


class RefreshTokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        return self.store.refresh_tokens.find(token_string)

    def revoke_token(self, token: RefreshToken, request: Any) -> None:
        self.store.refresh_tokens.revoke_family(token.family_id)
        events.record("token.revoked", client_id=token.client_id, family=token.family_id,
                      sub=token.family.user.sub)
