"""The resource protector: validates RFC 9068 JWT access tokens for Flask views.

Built on Authlib's ResourceProtector and RFC 9068 validator. Keys come from a KeySource:
`LocalKeys` (the authorization server's own key store, in process) or `RemoteIssuerKeys`
(any other Flask service, given nothing but the issuer URL: discovery, then the JWKS).

    require_token = protector_for_issuer("https://issuer.example")

    @app.get("/hello")
    @require_token("profile")
    def hello():
        return {"sub": current_token["sub"]}
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, NoReturn, Protocol

import httpx
from authlib.integrations.flask_oauth2 import ResourceProtector, current_token, token_authenticated
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from flask import Response, abort, g
from flask import json as flask_json
from flask import request as flask_request
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

__all__ = [
    "AccessTokenValidator",
    "KeySource",
    "LocalKeys",
    "RemoteIssuerKeys",
    "create_protector",
    "current_token",
    "protector_for_issuer",
]

log = logging.getLogger(__name__)

# Far above any token we issue (~1 KB); refused before any parsing or base64 work.
MAX_TOKEN_BYTES = 8192
# RFC 9068 §2.1: "at+jwt"; §4: the "application/" prefix may be present too.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# Verified tokens remembered per validator (about 2 KB each); 0 turns the cache off.
VERIFIED_CACHE_SIZE = 4096


class KeySource(Protocol):
    def get_key(self, kid: str) -> Key | None:
        """The public key with this kid, or None if the issuer does not publish it."""


class LocalKeys:
    """The authorization server's own published keys (next, current, retired)."""

    def __init__(self, keystore: Any) -> None:
        self.keystore = keystore
        self._source: KeySet | None = None
        self._by_kid: dict[str, Key] = {}

    def get_key(self, kid: str) -> Key | None:
        keyset = self.keystore.public_keyset()
        if keyset is not self._source:
            # The store swapped in a new set (a rotation): index it once.
            self._by_kid = {key.kid: key for key in keyset.keys if key.kid}
            self._source = keyset
        return self._by_kid.get(kid)


class RemoteIssuerKeys:
    """An issuer's published keys, fetched via OIDC discovery and cached.

    Written by hand because no maintained library here does all of it: Cache-Control-aware
    caching, at most one refetch per `min_refetch_interval` on an unknown kid (a flood of
    bogus kids cannot make us hammer the issuer), and stale keys kept while the issuer is down.
    """

    def __init__(
        self,
        issuer: str,
        *,
        http: httpx.Client | None = None,
        min_refetch_interval: float = 30.0,
        default_max_age: int = 300,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout, follow_redirects=False)
        self.min_refetch_interval = min_refetch_interval
        self.default_max_age = default_max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, Key] = {}
        self._fresh_until = 0.0
        self._last_fetch = float("-inf")

    def get_key(self, kid: str) -> Key | None:
        now = self._clock()
        key = self._keys.get(kid)
        if key is not None and now < self._fresh_until:
            return key
        with self._lock:
            key = self._keys.get(kid)
            stale = now >= self._fresh_until
            # Unknown kid or stale cache: refetch, but never more than once per interval;
            # a failed refetch leaves the (possibly stale) keys in place.
            if (key is None or stale) and now - self._last_fetch >= self.min_refetch_interval:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._last_fetch = now
        try:
            jwks_uri = self._jwks_uri or self._discover()
            response = self.http.get(jwks_uri)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError, KeyError, TypeError) as exc:
            # The issuer is down or answers nonsense: keep validating with what we have.
            log.warning("cannot refresh keys of %s (%s); keeping %d cached keys",
                        self.issuer, exc, len(self._keys))
            return
        self._jwks_uri = jwks_uri
        self._keys = {key.kid: key for key in keys.keys if key.kid and _is_signing_key(key)}
        self._fresh_until = now + _max_age(response.headers.get("Cache-Control"),
                                           self.default_max_age)

    def _discover(self) -> str:
        response = self.http.get(f"{self.issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        metadata = response.json()
        # OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer must be exactly the one we trust.
        if metadata.get("issuer") != self.issuer:
            raise ValueError(f"discovery names issuer {metadata.get('issuer')!r}, not {self.issuer!r}")
        return str(metadata["jwks_uri"])


def _is_signing_key(key: Key) -> bool:
    return key.get("use", "sig") == "sig" and key.key_type != "oct"


def _max_age(cache_control: str | None, default: int) -> float:
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "no-store" or name.lower() == "no-cache":
            return 0
        if name.lower() == "max-age" and value.isdigit():
            return int(value)
    return default


def _invalid(reason: str, description: str) -> InvalidTokenError:
    error = InvalidTokenError(description)
    error.reason = reason  # type: ignore[attr-defined]
    return error


class _Verified(NamedTuple):
    key: Key  # the key that verified the signature
    claims: dict[str, Any]
    header: dict[str, Any]


class AccessTokenValidator(JWTBearerTokenValidator):
    """RFC 9068 §4 validation, stricter than Authlib's default on the points RFC 8725 asks:
    `typ` is required, the algorithm is pinned, and the key comes only from our KeySource
    (jku/x5u/jwk/x5c headers are never looked at).

    A client presents the same access token on every call until it expires, so the outcome of
    the signature check is remembered per exact token string, and trusted only while the
    KeySource still returns that very key for the token's kid: a withdrawn or replaced key means
    the token is verified afresh (and refused). The header and signature checks depend on the
    token's bytes alone; expiry, the other claims and the scope are checked on every use.
    Only tokens that verified are remembered, so forged ones cannot fill the cache. Written by
    hand: joserfc and Authlib have no such cache (Envoy's jwt_authn and PostgREST have one)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: KeySource,
        *,
        leeway: int = 60,
        algorithms: Iterable[str] = ("RS256",),
        verified_cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self.keys = keys
        self.leeway = leeway
        self.algorithms = list(algorithms)
        self.verified_cache_size = verified_cache_size
        self.verified_tokens: dict[str, _Verified] = {}

    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        if len(token_string) > MAX_TOKEN_BYTES:
            raise _invalid("too_large", "the access token is too large")
        known = self.verified_tokens.get(token_string)
        if known is not None and self.keys.get_key(known.header["kid"]) is known.key:
            # Copies of both: a view may edit what it was given.
            return JWTAccessTokenClaims(known.claims, dict(known.header))
        claims, header, key = self._verify(token_string)
        if self.verified_cache_size > 0:
            if len(self.verified_tokens) >= self.verified_cache_size:
                self.verified_tokens = {}  # bounded: start again rather than track recency
            self.verified_tokens[token_string] = _Verified(key, claims, header)
        return JWTAccessTokenClaims(claims, dict(header))

    def _verify(self, token_string: str) -> tuple[dict[str, Any], dict[str, Any], Key]:
        try:
            signed = jws.extract_compact(token_string.encode("ascii"))
        except (JoseError, ValueError, UnicodeError):
            raise _invalid("malformed", "the access token is not a signed JWT") from None
        header = signed.protected
        if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
            raise _invalid("wrong_typ", "the token is not an access token (typ must be at+jwt)")
        if header.get("alg") not in self.algorithms:
            raise _invalid("wrong_alg", f"the token's alg must be one of {self.algorithms}")
        kid = header.get("kid")
        key = self.keys.get_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise _invalid("unknown_key", "the token is signed by a key the issuer does not publish")
        try:
            verified = jws.validate_compact(signed, key, self.algorithms)
            claims = json.loads(signed.payload) if verified else None
        except (JoseError, ValueError):
            verified = False
        if not verified or not isinstance(claims, dict):
            raise _invalid("bad_signature", "the token's signature does not verify")
        return claims, header, key

    def validate_token(
        self, token: JWTAccessTokenClaims, scopes: Any, request: Any, **kwargs: Any
    ) -> None:
        problem = self._claims_problem(token, int(time.time()))
        if problem:
            raise _invalid("claims", f"the token is not valid: {problem}")
        if self.scope_insufficient(token.get("scope"), scopes):
            raise ScopeRequired(scopes)

    def _claims_problem(self, claims: dict[str, Any], now: int) -> str | None:
        """RFC 9068 §4 / RFC 7519 §4.1 checks, written out: joserfc's generic claims registry
        cost a third of each validation, and these few comparisons are all it did here."""
        for name in ("iss", "aud", "exp", "iat", "sub", "client_id", "jti"):
            if name not in claims:
                return f"the {name} claim is missing"
        if claims["iss"] != self.issuer:
            return "wrong issuer"
        audience = claims["aud"]
        if audience != self.resource_server and not (
            isinstance(audience, list) and self.resource_server in audience
        ):
            return "not meant for this resource server (aud)"
        for name in ("exp", "iat", "nbf"):
            if name in claims and not isinstance(claims[name], (int, float)):
                return f"the {name} claim is not a number"
        if claims["exp"] <= now - self.leeway:
            return "expired"
        if claims.get("nbf", 0) > now + self.leeway or claims["iat"] > now + self.leeway:
            return "not valid yet"
        return None


class ScopeRequired(InsufficientScopeError):
    """403 naming the scope needed, in the challenge too (RFC 6750 §3)."""

    def __init__(self, scopes: list[str] | None) -> None:
        self.needed = " ".join(scopes or [])
        super().__init__(f"this request needs the scope {self.needed!r}")

    def get_headers(self) -> list[tuple[str, str]]:
        return [
            *super().get_headers(),
            ("WWW-Authenticate", f'Bearer error="insufficient_scope", scope="{self.needed}"'),
        ]


class BearerProtector(ResourceProtector):
    """Authlib's Flask protector with RFC 6750 §3 responses: a bare challenge when the request
    carries no Bearer token, JSON error bodies, never a 500. `on_failure(reason)` is told of
    every refusal (the server counts them in its metrics). A validator registered on it is
    handed a request object with `headers` only."""

    def __init__(self, on_failure: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.on_failure = on_failure

    def acquire_token(self, scopes: Any = None, **kwargs: Any) -> Any:
        # As Authlib's, but the validators are given only the request's headers: Authlib wraps
        # the whole request first (URL, body), which cost more than verifying the signature.
        kwargs["scopes"] = scopes
        for claim, value in kwargs.items():
            if isinstance(value, str):
                kwargs[claim] = [value]
        token = self.validate_request(request=_BearerRequest(flask_request.headers), **kwargs)
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token
        return token

    def raise_error_response(self, error: OAuth2Error) -> NoReturn:
        if self.on_failure is not None:
            self.on_failure(_reason(error))
        headers = dict(error.get_headers())
        if isinstance(error, (MissingAuthorizationError, UnsupportedTokenTypeError)):
            # §3.1: no authentication information -> no error code in the challenge.
            headers["WWW-Authenticate"] = "Bearer"
            body = {"error": "invalid_request",
                    "error_description": "send the access token as 'Authorization: Bearer <token>'"}
        else:
            body = dict(error.get_body())
        headers["Content-Type"] = "application/json"
        headers["Cache-Control"] = "no-store"
        abort(Response(flask_json.dumps(body), status=error.status_code, headers=headers))


class _BearerRequest:
    """What a Bearer token check reads of a request (RFC 6750 §2.1): its headers."""

    def __init__(self, headers: Any) -> None:
        self.headers = headers


def _reason(error: OAuth2Error) -> str:
    if isinstance(error, MissingAuthorizationError):
        return "missing"
    if isinstance(error, UnsupportedTokenTypeError):
        return "wrong_scheme"
    if isinstance(error, InsufficientScopeError):
        return "insufficient_scope"
    return str(getattr(error, "reason", error.error))


def create_protector(
    issuer: str, audience: str, keys: KeySource, *, leeway: int = 60,
    verified_cache_size: int = VERIFIED_CACHE_SIZE,
) -> BearerProtector:
    protector = BearerProtector()
    protector.register_token_validator(AccessTokenValidator(
        issuer, audience, keys, leeway=leeway, verified_cache_size=verified_cache_size
    ))
    return protector


def protector_for_issuer(
    issuer: str, audience: str | None = None, **kwargs: Any
) -> BearerProtector:
    """Protect a Flask app with tokens from `issuer`, knowing nothing else about it. `leeway`
    and `verified_cache_size` go to the validator, anything else to RemoteIssuerKeys."""
    leeway = kwargs.pop("leeway", 60)
    cache_size = kwargs.pop("verified_cache_size", VERIFIED_CACHE_SIZE)
    issuer = issuer.rstrip("/")
    keys = RemoteIssuerKeys(issuer, **kwargs)
    return create_protector(issuer, audience or f"{issuer}/api", keys, leeway=leeway,
                            verified_cache_size=cache_size)
