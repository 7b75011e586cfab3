"""Token introspection (RFC 7662) for JWT access tokens and refresh tokens.

Two Authlib endpoints registered under one name: the access-token one answers for tokens that
are ours by the server's one access-token validator (the same that guards the APIs) and passes
anything else on to the refresh-token one. A client may introspect only its own tokens; the
resource server of an API, the access tokens for that API.
"""

from __future__ import annotations

from typing import Any

from authlib.common.errors import ContinueIteration
from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from ..models import Client, RefreshToken
from ..policy import CONFIDENTIAL_AUTH_METHODS
from ..resource_server import AccessTokenValidator
from ..store import Store
from .access_tokens import grant_of, grant_revoked


def may_see(client: Client, claims: dict[str, Any]) -> bool:
    """A client sees its own access tokens; an API's resource server (`client create
    --resource-server`) sees every token for that API and nothing else (INTERFACE.md)."""
    if client.resource_server is not None:
        audience = claims.get("aud")
        return audience == client.resource_server or (
            isinstance(audience, list) and client.resource_server in audience)
    return bool(claims.get("client_id") == client.client_id)


class AccessTokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def __init__(self, validator: AccessTokenValidator, store: Store) -> None:
        super().__init__()
        self.validator = validator
        self.store = store

    def create_endpoint_response(self, request: Any) -> tuple[int, dict[str, Any], Any]:
        client = self.authenticate_endpoint_client(request)
        token = self.authenticate_token(request, client)
        return 200, self.create_introspection_payload(token), default_json_headers

    def check_params(self, request: Any, client: Client) -> None:
        # RFC 7662 §2.1: the hint only orders the search ("If the server is unable to locate
        # the token using the given hint, it MUST extend its search across all of its
        # supported token types"), so a wrong or unknown hint changes nothing.
        if "token" not in request.form:
            raise InvalidRequestError("the token parameter is required")

    def authenticate_token(self, request: Any, client: Client) -> dict[str, Any] | None:
        self.check_params(request, client)
        try:
            claims = self.validator.authenticate_token(request.form["token"])
        except InvalidTokenError:
            raise ContinueIteration() from None  # not an access token of ours: maybe a refresh token
        return claims if may_see(client, claims) else None

    def create_introspection_payload(self, token: dict[str, Any] | None) -> dict[str, Any]:
        # RFC 7662 §2.2: a token that is not active (expired, or failing any check the APIs
        # make) is only ever {"active": false}.
        # Nor is one whose grant was revoked, or whose user is gone (linked.py).
        if not token or self.validator.claims_problem(token, self.store.now(), leeway=0):
            return {"active": False}
        user = self.store.users.by_sub(token["sub"])
        has_user = token["sub"] != token.get("client_id")  # client_credentials: sub is the client
        if (has_user and user is None) or grant_revoked(grant_of(self.store, token)):
            return {"active": False}
        payload: dict[str, Any] = {"active": True,
                                   "token_type": "DPoP" if "cnf" in token else "Bearer"}
        for name in ("client_id", "scope", "sub", "aud", "iss", "exp", "iat", "cnf", "roles",
                     "groups"):
            if name in token:  # cnf: the DPoP key of a bound token (RFC 9449 §6.2)
                payload[name] = token.get(name)
        if user is not None:
            payload["username"] = user.username
        return payload


class RefreshTokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def check_params(self, request: Any, client: Client) -> None:
        if "token" not in request.form:
            raise InvalidRequestError("the token parameter is required")

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        return self.store.refresh_tokens.find(token_string)

    def check_permission(self, token: RefreshToken, client: Client, request: Any) -> bool:
        # A resource server is shown access tokens only: refresh tokens are the client's own.
        return client.resource_server is None and token.check_client(client)

    def create_introspection_payload(self, token: RefreshToken | None) -> dict[str, Any]:
        # A rotated-away token is as dead as a revoked one.
        if token is None or not token.is_live(self.store.now()):
            return {"active": False}
        return self.introspect_token(token)

    def introspect_token(self, token: RefreshToken) -> dict[str, Any]:
        user = token.family.user
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": token.client_id,
            "scope": token.scope,
            "sub": user.sub,
            "username": user.username,
            "iat": token.issued_at,
            "exp": token.expires_at,
        }
