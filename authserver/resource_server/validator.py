"""RFC 9068 access token validation: the one rule for what a valid access token is, used by
the protected APIs, introspection and revocation alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from . import untrusted
from .dpop import MemoryReplayCache, NonceRequired, Nonces, ProofError, check_proof
from .keys import KeySource

# Far above any token we issue (~1 KB); refused before any parsing or base64 work.
MAX_TOKEN_BYTES = 8192
# RFC 9068 §2.1: "at+jwt"; §4: the "application/" prefix may be present too.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# The algorithms a token may name; the key it names pins the one it must use (RFC 8725 §3.1).
TOKEN_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
# Verified tokens remembered per validator (about 2 KB each); 0 turns the cache off.
VERIFIED_CACHE_SIZE = 4096


def _invalid(reason: str, description: str) -> InvalidTokenError:
    error = InvalidTokenError(description)
    error.reason = reason  # type: ignore[attr-defined]
    return error


class InvalidDPoPProof(InvalidTokenError):
    """RFC 9449 §7.1: a DPoP-bound token whose proof fails (answered with a DPoP challenge)."""

    error = "invalid_dpop_proof"
    reason = "dpop_proof"


def bound_key(claims: dict[str, Any]) -> str | None:
    """The DPoP key thumbprint a token is bound to (`cnf.jkt`, RFC 9449 §6.1), if any."""
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    return jkt if isinstance(jkt, str) else None


def _claims(claims: dict[str, Any], header: dict[str, Any], token_string: str
            ) -> JWTAccessTokenClaims:
    found = JWTAccessTokenClaims(claims, dict(header))
    # Kept for a DPoP proof's ath (the hash of this very string).
    found.token_string = token_string  # type: ignore[attr-defined]
    return found


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
        algorithms: Iterable[str] = TOKEN_ALGS,
        verified_cache_size: int = VERIFIED_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
        dpop_replay: Callable[[str, int], bool] | None = None,
        dpop_nonces: Nonces | None = None,
    ) -> None:
        super().__init__(issuer=issuer, resource_server=audience)
        self.clock = clock
        # The jti cache of DPoP proofs: per process unless the caller shares one.
        self.dpop_replay = dpop_replay or MemoryReplayCache(clock)
        self.dpop_nonces = dpop_nonces  # server nonces (RFC 9449 §8), when required
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
            return _claims(known.claims, known.header, token_string)
        claims, header, key = self._verify(token_string)
        if self.verified_cache_size > 0:
            if len(self.verified_tokens) >= self.verified_cache_size:
                self.verified_tokens = {}  # bounded: start again rather than track recency
            self.verified_tokens[token_string] = _Verified(key, claims, header)
        return _claims(claims, header, token_string)

    def _verify(self, token_string: str) -> tuple[dict[str, Any], dict[str, Any], Key]:
        try:
            with untrusted.parsing():
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
        # RFC 8725 §3.1: the algorithm is the published key's, never the header's alone.
        pinned = key.get("alg")
        if isinstance(pinned, str) and header["alg"] != pinned:
            raise _invalid("wrong_alg", f"the token's alg is not its key's ({pinned})")
        try:
            verified = jws.validate_compact(
                signed, key, [pinned] if isinstance(pinned, str) else self.algorithms)
            claims = untrusted.loads(signed.payload) if verified else None
        except (JoseError, ValueError):
            verified = False
        if not verified or not isinstance(claims, dict):
            raise _invalid("bad_signature", "the token's signature does not verify")
        return claims, header, key

    def validate_token(
        self, token: JWTAccessTokenClaims, scopes: Any, request: Any, **kwargs: Any
    ) -> None:
        problem = self.claims_problem(token, int(self.clock()))
        if problem:
            raise _invalid("claims", f"the token is not valid: {problem}")
        self.check_sender(token, request)
        if self.scope_insufficient(token.get("scope"), scopes):
            raise ScopeRequired(scopes)
        held = token.get("roles")
        held = held if isinstance(held, list) else []
        for role in kwargs.get("roles") or []:
            if role not in held:
                raise RoleRequired(role)

    def check_sender(self, token: JWTAccessTokenClaims, request: Any) -> None:
        """RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a proof of its key,
        checked on every request (the verified-token cache covers the token's signature only);
        a token that is not bound, only as Bearer."""
        jkt = bound_key(token)
        scheme = getattr(request, "scheme", "bearer")
        if jkt is None:
            if scheme == "dpop":
                raise _invalid("not_dpop_bound", "this token is not DPoP-bound: send it as Bearer")
            return
        if scheme != "dpop":
            raise _invalid("dpop_required",
                           "this token is DPoP-bound: send it as 'Authorization: DPoP <token>' "
                           "with a DPoP proof")
        try:
            proof = check_proof(request.headers.get("DPoP"), method=request.method,
                                url=request.url, now=self.clock(), first_use=self.dpop_replay,
                                access_token=getattr(token, "token_string", ""),
                                nonces=self.dpop_nonces)
        except NonceRequired as exc:
            error = InvalidDPoPProof(exc.description)
            error.error, error.nonce = "use_dpop_nonce", exc.nonce  # type: ignore[attr-defined]
            raise error from None
        except ProofError as exc:
            raise InvalidDPoPProof(exc.description) from None
        if proof.jkt != jkt:
            raise InvalidDPoPProof("the DPoP proof is signed by another key than the token's")

    def accepts_audience(self, audience: Any) -> bool:
        """Whether a token with this `aud` is for us: ours, or ours among several."""
        return audience == self.resource_server or (
            isinstance(audience, list) and self.resource_server in audience)

    def claims_problem(self, claims: dict[str, Any], now: int, *,
                       leeway: int | None = None) -> str | None:
        """RFC 9068 §4 / RFC 7519 §4.1 checks, written out: joserfc's generic claims registry
        cost a third of each validation, and these few comparisons are all it did here. The
        issuer itself (introspection) passes leeway=0: its clock is the one that counts."""
        leeway = self.leeway if leeway is None else leeway
        for name in ("iss", "aud", "exp", "iat", "sub", "client_id", "jti"):
            if name not in claims:
                return f"the {name} claim is missing"
        if claims["iss"] != self.issuer:
            return "wrong issuer"
        if not self.accepts_audience(claims["aud"]):
            return "not meant for this resource server (aud)"
        for name in ("exp", "iat", "nbf"):
            if name in claims and not isinstance(claims[name], (int, float)):
                return f"the {name} claim is not a number"
        if claims["exp"] <= now - leeway:
            return "expired"
        if claims.get("nbf", 0) > now + leeway or claims["iat"] > now + leeway:
            return "not valid yet"
        return None


class RoleRequired(InsufficientScopeError):
    """403 naming the role needed (RFC 9068 §2.2.3.1 roles): RFC 6750 has no error of its
    own for it, so insufficient_scope, with the role in the description."""

    def __init__(self, role: str) -> None:
        self.role = role
        super().__init__(f"this request needs the role '{role}' of this API")

    def get_headers(self) -> list[tuple[str, str]]:
        return [
            *super().get_headers(),
            ("WWW-Authenticate", f'Bearer error="insufficient_scope", '
                                 f'error_description="{self.description}"'),
        ]


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
