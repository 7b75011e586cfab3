"""Every token response for a user belongs to one grant: a refresh token family, started
before the access token is signed (whether or not refresh tokens come with it), and named in
the access token's `grant_id`. The server's own endpoints (userinfo, introspection) then stop
accepting the token once its grant is revoked: a replayed code, a reused refresh token, a
password change (OIDC conformance oidcc-codereuse-30seconds). APIs that validate tokens
locally cannot see that, and accept them until they expire."""

from __future__ import annotations

from typing import Any

from ...models import User
from ..access_tokens import for_grant


class LinkedToGrant:
    """Mixed in before an Authlib grant class: wraps its generate_token."""

    request: Any
    server: Any

    def grant_id_for(self, user: User, scope: str) -> str:
        """A new grant; the refresh grant continues the one its token belongs to."""
        return self.server.start_grant(self.request, user, scope or "")  # type: ignore[no-any-return]

    def generate_token(self, user: User | None = None, scope: str | None = None,
                       grant_type: str | None = None, expires_in: int | None = None,
                       include_refresh_token: bool = True) -> dict[str, Any]:
        generate = super().generate_token  # type: ignore[misc]
        if user is None:
            return generate(user, scope, grant_type, expires_in, include_refresh_token)  # type: ignore[no-any-return]
        with for_grant(self.grant_id_for(user, scope or "")):
            return generate(user, scope, grant_type, expires_in, include_refresh_token)  # type: ignore[no-any-return]
