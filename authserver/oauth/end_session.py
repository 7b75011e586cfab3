"""OpenID Connect RP-Initiated Logout 1.0 on Authlib's EndSessionEndpoint: redirect back only
to a registered post_logout_redirect_uri, and only for a valid id_token_hint; without one the
user is asked to confirm (§2, §3).

A valid hint is an ID token of ours: the same keys sign access tokens (RFC 9068, typ at+jwt)
and logout tokens (typ logout+jwt, an `events` claim), and neither is a hint. Authlib checks
the signature, and that a client_id given is in the hint's aud (§2); the rest is here."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from .. import events
from ..keystore import KeyStore
from ..resource_server import untrusted

# What an ID token of ours says in its header (joserfc's default typ) and never holds: a
# logout token's `events`, an access token's `scope` and `client_id`.
ID_TOKEN_TYPES = (None, "JWT")
NOT_IN_ID_TOKENS = ("events", "scope", "client_id")


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

    def validate_request(self, request: Any) -> Any:
        try:
            with untrusted.parsing():
                end_session_request = super().validate_request(request)
        except untrusted.NestedTooDeep:
            raise InvalidRequestError("id_token_hint is not a JWT") from None
        if end_session_request.id_token_claims is not None:
            self._check_is_our_id_token(request.payload.data["id_token_hint"],
                                        end_session_request.id_token_claims)
        return end_session_request

    def _check_is_our_id_token(self, hint: str, claims: dict[str, Any]) -> None:
        """§2: "the OP MUST validate that it was the issuer of the ID Token". The signature is
        checked by now: what is left is whether what we signed is an ID token, for a client."""
        try:
            with untrusted.parsing():
                typ = extract_compact(hint.encode()).protected.get("typ")
        except (JoseError, ValueError):  # verified already; kept for safety
            typ = "unreadable"
        if typ not in ID_TOKEN_TYPES or any(name in claims for name in NOT_IN_ID_TOKENS):
            raise InvalidRequestError("id_token_hint is not an ID token")
        if claims.get("iss") != self.issuer:
            raise InvalidRequestError("id_token_hint was not issued here")
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("aud"), str):
            raise InvalidRequestError("id_token_hint is not an ID token of this server")

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
