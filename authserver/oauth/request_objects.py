"""Request objects (RFC 9101, OIDC Core §6): an authorization request sent as a JWT the client
signed (`request`), on Authlib's JWTAuthenticationRequest.

Signed only: RS256, PS256, ES256 or EdDSA (a FAPI 2.0 client: not RS256), with the keys the
client registered (`client create
--jwks`); an unsigned one (alg "none") is refused with request_not_supported. `request_uri` is
only a pushed authorization request's URN (RFC 9126, par.py); any other is refused with
request_uri_not_supported: fetching a URI a client names would make the server an SSRF tool.

Once verified, the object's claims are the request (RFC 9101 §5: only those are used); the
outer client_id and response_type must agree with them (oauth/authorization_request.py's
steps validate those parameters, for /oauth/authorize and /oauth/par alike).
"""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9101 import JWTAuthenticationRequest
from authlib.oauth2.rfc9101.errors import (
    InvalidRequestObjectError,
    InvalidRequestUriError,
    RequestNotSupportedError,
    RequestUriNotSupportedError,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from ..models import Client
from ..policy import CLIENT_ASSERTION_ALGS
from ..resource_server import untrusted
from ..store import Store
from ..store.client_metadata import usable_keys
from ..store.pushed_requests import is_pushed

# The algorithms a request object may be signed with: those of client assertions.
REQUEST_OBJECT_ALGS = CLIENT_ASSERTION_ALGS
# JWT claims about the object itself, not parameters of the request.
_ENVELOPE = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti"})


class RequestObjects(JWTAuthenticationRequest):
    def __init__(self, issuer: str, leeway: int, store: Store) -> None:
        super().__init__(support_request=True, support_request_uri=False)
        self.issuer = issuer
        self.store = store
        # client_id is essential (Authlib's rule); exp, nbf and iat are checked when present,
        # and aud, when present, must be this issuer (RFC 9101 §4).
        self.claims_validator = jwt.JWTClaimsRegistry(
            leeway=leeway, client_id={"essential": True}, aud={"value": issuer})

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if not client.jwks:
            raise InvalidRequestObjectError(
                "this client registered no keys to verify a request object with")
        return usable_keys(client.jwks)

    def get_server_metadata(self) -> dict[str, Any]:
        # Not require_signed_request_object: Authlib would then refuse plain requests too.
        return {"request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS)}

    def get_client_require_signed_request_object(self, client: Client) -> bool:
        return False  # a plain authorization request stays allowed

    def parameters(self, server: Any, raw: dict[str, str], client: Client) -> dict[str, Any]:
        """The request's parameters: `raw` itself without a request object, else the verified
        object's claims. Raises the RFC 9101 §6.3 errors."""
        if "request_uri" in raw and "request" not in raw:
            if is_pushed(raw["request_uri"]):
                pushed = self.store.pushed_requests.find(raw["request_uri"], client.client_id)
                if pushed is None:
                    raise InvalidRequestUriError(
                        "this request_uri is unknown, expired, used, or another client's",
                        state=raw.get("state"))
                return pushed
            raise RequestUriNotSupportedError(
                "request_uri is only for the URNs of pushed authorization requests (/oauth/par)",
                state=raw.get("state"))
        if "request" not in raw:
            return raw
        alg = _algorithm(raw["request"])
        if alg == "none":
            raise RequestNotSupportedError(
                "unsigned request objects are not accepted; sign it with one of "
                + ", ".join(REQUEST_OBJECT_ALGS), state=raw.get("state"))
        if not client.security_profile.accepts_alg(alg):
            raise InvalidRequestObjectError(
                "this client's request objects must be signed with "
                + ", ".join(client.security_profile.accepted_algs()), state=raw.get("state"))
        request = OAuth2Request("GET", self.issuer)
        request.payload = BasicOAuth2Payload(raw)
        try:
            with untrusted.parsing():
                self.parse_authorization_request(server, request)
        except untrusted.NestedTooDeep:  # a signed payload nested too deep for json
            raise InvalidRequestObjectError("the request object's claims are nested too deep",
                                            state=raw.get("state")) from None
        claims: dict[str, Any] = dict(request.payload.data)
        try:
            untrusted.whole_text(claims)  # no half surrogate pair reaches a page or the database
        except untrusted.LoneSurrogate:
            raise InvalidRequestObjectError("the request object's claims hold half a surrogate "
                                            "pair (no character)", state=raw.get("state")) from None
        if "iss" in claims and claims["iss"] != client.client_id:
            raise InvalidRequestObjectError("the request object's iss is not the client",
                                            state=raw.get("state"))
        for name in ("response_type",):
            if name in claims and name in raw and claims[name] != raw[name]:
                raise InvalidRequestError(f"{name} differs inside and outside the request object",
                                          state=raw.get("state"))
        params = {name: value if name == "resource" else _as_parameter(value)
                  for name, value in claims.items() if name not in _ENVELOPE}
        params.setdefault("response_type", raw.get("response_type", ""))
        return params


def _algorithm(compact: str) -> str | None:
    try:
        with untrusted.parsing():
            return str(extract_compact(compact.encode()).protected.get("alg"))
    except (JoseError, ValueError):
        raise InvalidRequestObjectError("the request object is not a compact JWS") from None


def _as_parameter(value: Any) -> Any:
    """Parameters are strings; a request object's may be numbers (max_age) or, for `claims`,
    an object: kept as JSON text, as the same parameter outside an object would be."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def sent_parameters(values: Any) -> dict[str, Any]:
    """An authorization request's parameters as sent (a query, a form): one value a name,
    but every `resource` (RFC 8707 lets it repeat), as a list."""
    sent: dict[str, Any] = values.to_dict()
    if "resource" in sent:
        sent["resource"] = values.getlist("resource")
    return sent
