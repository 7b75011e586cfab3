"""private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9) on Authlib's
JWTBearerClientAssertion: the client signs a short JWT with its own key; we hold only its
public JWK Set."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request as flask_request
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


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = AUTH_METHOD

    def __init__(self, issuer: str, store: Store, leeway: int = 60) -> None:
        super().__init__(validate_jti=True, leeway=leeway)
        self.issuer = issuer
        self.store = store

    def get_audiences(self) -> list[str]:
        # RFC 7523 §3 item 3: the token endpoint URL; OIDC also allows the issuer. At PAR,
        # RFC 9126 §2: "the issuer identifier URL ..., the token endpoint URL, or the pushed
        # authorization request endpoint URL" (a FAPI 2.0 client: the issuer only, below).
        audiences = [f"{self.issuer}/oauth/token", self.issuer]
        if flask_request.path == PAR_PATH:
            audiences.append(self.issuer + PAR_PATH)
        return audiences

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if not client.jwks:  # an assertion naming a client that registered no keys (was a 500)
            raise InvalidClientError(description="this client registered no keys to verify "
                                     "an assertion with")
        return usable_keys(client.jwks)

    def extract_assertion(self, assertion: str) -> Any:
        """Authlib reads the unverified claims for the client's id (RFC 7523 §3: sub)."""
        try:
            with untrusted.parsing():
                return super().extract_assertion(assertion)
        except untrusted.NestedTooDeep:
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
