"""OpenID Connect RP-Initiated Logout 1.0 on Authlib's EndSessionEndpoint: redirect back only
to a registered post_logout_redirect_uri, and only for a valid id_token_hint; without one the
user is asked to confirm (§2, §3)."""

from __future__ import annotations

from typing import Any

from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet

from .. import events
from ..keystore import KeyStore


class EndSession(EndSessionEndpoint):
    def __init__(self, issuer: str, keystore: KeyStore,
                 signing_algs: tuple[str, ...] = ("RS256",)) -> None:
        super().__init__()
        self.issuer = issuer
        self.keystore = keystore
        self.signing_algs = signing_algs

    def get_server_jwks(self) -> KeySet:
        return self.keystore.public_keyset()

    def get_algorithms(self) -> list[str]:
        # An ID token we issued, with whichever configured algorithm its client has.
        return list(self.signing_algs)

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        # Our keys also sign access tokens: a hint must be an ID token of this issuer
        # (an access token's aud is an API, never a client, so it names no client anyway).
        if id_token_claims.get("iss") != self.issuer:
            return None
        return super().resolve_client_from_id_token_claims(id_token_claims)

    def end_session(self, end_session_request: Any) -> None:
        # The browser session is the web layer's (it signs out before answering).
        client = end_session_request.client
        events.record("logout", client_id=client.client_id if client else None,
                      sub=(end_session_request.id_token_claims or {}).get("sub"))
