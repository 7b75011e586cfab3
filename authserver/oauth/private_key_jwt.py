"""private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9) on Authlib's
JWTBearerClientAssertion: the client signs a short JWT with its own key; we hold only its
public JWK Set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ..models import Client
from ..policy import CLIENT_ASSERTION_ALGS
from ..resource_server import untrusted
from ..store import Store
from ..store.client_metadata import usable_keys
from .par import PAR_PATH

AUTH_METHOD = "private_key_jwt"


def private_key_jwt(issuer: str, store: Store, leeway: int = 60) -> Callable[[Any, Any], Any]:
    """The method as Authlib registers it: the assertion's audience depends on the endpoint.
    RFC 7523 §3 item 3: the token endpoint URL; OIDC also allows the issuer. At PAR, RFC 9126
    §2: "the issuer identifier URL ..., the token endpoint URL, or the pushed authorization
    request endpoint URL" (a FAPI 2.0 client: the issuer only, below)."""
    at_token = PrivateKeyJWT(issuer, store, leeway)
    at_par = PrivateKeyJWT(issuer, store, leeway, [*at_token.audiences, issuer + PAR_PATH])

    def authenticate(query_client: Any, request: Any) -> Any:
        method = at_par if getattr(request, "path", None) == PAR_PATH else at_token
        return method(query_client, request)

    return authenticate


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = AUTH_METHOD

    def __init__(self, issuer: str, store: Store, leeway: int = 60,
                 audiences: list[str] | None = None) -> None:
        super().__init__(validate_jti=True, leeway=leeway)
        self.issuer = issuer
        self.store = store
        self.audiences = audiences or [f"{issuer}/oauth/token", issuer]

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if not client.jwks:  # an assertion naming a client that registered no keys (was a 500)
            raise InvalidClientError(description="this client registered no keys to verify "
                                     "an assertion with")
        return usable_keys(client.jwks)

    def extract_assertion(self, assertion: str) -> Any:
        """Authlib reads the unverified claims for the client's id (RFC 7523 §3: sub)."""
        try:
            with untrusted.parsing():
                # (Its claims name the client before any check: half a surrogate pair in them
                # would reach the database's encoder.)
                return untrusted.whole_text(super().extract_assertion(assertion))
        except (untrusted.NestedTooDeep, untrusted.LoneSurrogate):
            raise InvalidClientError(description="the client assertion is not a JWT") from None

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            with untrusted.parsing():
                token = jwt.decode(assertion, resolve_key,
                                   algorithms=list(CLIENT_ASSERTION_ALGS))
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="the client assertion does not verify") from exc
        client = self.store.clients.get(str(token.claims.get("sub")))
        profile = client.security_profile if client is not None else None
        if profile is not None and not profile.accepts_alg(token.header.get("alg")):
            raise InvalidClientError(description="this client's assertions must be signed with "
                                     + ", ".join(profile.accepted_algs()))
        self.verify_claims(token.claims)
        if (profile is not None and profile.issuer_audience_only
                and token.claims.get("aud") != self.issuer):
            # FAPI 2.0 §5.3.2.1: the issuer identifier, and only it, as the audience.
            raise InvalidClientError(description="this client's assertion audience must be the "
                                     "issuer")
        return token.claims

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        return self.store.assertions.use_once(str(claims["sub"]), jti, int(claims["exp"]))
