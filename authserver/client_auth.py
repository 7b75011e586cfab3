"""private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9) on Authlib's
JWTBearerClientAssertion: the client signs a short JWT with its own key; we hold only its
public JWK Set."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from . import db
from .models import Client, ClientAssertionUse

AUTH_METHOD = "private_key_jwt"
# Asymmetric only: a client's keys are public here, so an HMAC "signature" would prove nothing.
SIGNING_ALGS = ["RS256", "PS256", "ES256"]


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = AUTH_METHOD

    def __init__(self, issuer: str, leeway: int = 60) -> None:
        super().__init__(validate_jti=True, leeway=leeway)
        self.issuer = issuer

    def get_audiences(self) -> list[str]:
        # RFC 7523 §3 item 3: the token endpoint URL; OIDC also allows the issuer.
        return [f"{self.issuer}/oauth/token", self.issuer]

    def resolve_client_public_key(self, client: Client) -> KeySet:
        return KeySet.import_key_set(cast(Any, client.jwks or {"keys": []}))

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=SIGNING_ALGS)
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="the client assertion does not verify") from exc
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Accept each assertion once: its (client, jti) is stored until the assertion expires,
        and committed at once, whatever becomes of the rest of the request."""
        digest = hashlib.sha256(f"{claims['sub']}:{jti}".encode()).hexdigest()
        session = db.session()
        # The request may already hold SQLite's write lock (begin_write): a second connection
        # would wait on it, so the row goes in through this session and intent is restored.
        writing = bool(session.connection().get_execution_options().get("sqlite_write_intent"))
        try:
            with session.begin_nested():
                session.add(ClientAssertionUse(jti_hash=digest, expires_at=int(claims["exp"])))
        except IntegrityError:
            return False
        session.commit()
        if writing:
            db.begin_write()
        return True
