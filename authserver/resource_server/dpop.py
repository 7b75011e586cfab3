"""DPoP proofs (RFC 9449): the checks of §4.3, for the token endpoint and for every API that
takes DPoP-bound tokens. Written by hand: neither Authlib nor joserfc checks DPoP proofs
(joserfc verifies the signature).

A proof is a JWT the client signs with its own key, sent in the `DPoP` header: typ dpop+jwt,
an asymmetric alg from our list, the public key in the `jwk` header, and claims jti, htm, htu,
iat (and ath, the hash of the access token, at an API). `jkt`, the key's RFC 7638 thumbprint,
is what a token is bound to (its `cnf.jkt`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from . import untrusted

PROOF_TYPE = "dpop+jwt"
PROOF_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
RSA_MIN_BITS = 2048  # RFC 7518 §3.3
# joserfc refuses a protected header over 512 bytes by default; a proof's header carries its
# public key, and an RSA-2048 JWK alone is about 400 bytes before base64. 4 KB holds an
# RSA-8192 key; the whole proof stays under MAX_PROOF_BYTES.
_REGISTRY = jws.JWSRegistry(algorithms=PROOF_ALGS)
_REGISTRY.max_header_length = 4096
# How far a proof's iat may be from our clock (RFC 9449 §11.1 leaves it to the server).
IAT_WINDOW = 60
MAX_PROOF_BYTES = 8192
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class ProofError(Exception):
    """The proof fails a check; `description` says which (RFC 9449 §5: invalid_dpop_proof)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class NonceRequired(ProofError):
    """§8: the proof must carry a fresh server nonce (`use_dpop_nonce`); `nonce` is one."""

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce


class Nonces:
    """Server-provided DPoP nonces (§8), without state: an HMAC of the current time window
    under a secret every worker and host shares, so any of them accepts any of them. A nonce
    is good for its window and the next (5 to 10 minutes)."""

    def __init__(self, secret: bytes, period: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = hmac.new(secret, b"authserver dpop nonce", hashlib.sha256).digest()
        self.period = period
        self.clock = clock

    def _for(self, window: int) -> str:
        digest = hmac.new(self.secret, str(window).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def current(self) -> str:
        return self._for(int(self.clock()) // self.period)

    def valid(self, nonce: Any) -> bool:
        window = int(self.clock()) // self.period
        return any(untrusted.same_text(nonce, self._for(w)) for w in (window, window - 1))


@dataclass(frozen=True)
class Proof:
    jkt: str
    jti: str
    iat: int
    alg: str = "ES256"


def token_hash(access_token: str) -> str:
    """`ath` (§4.2): base64url of the SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


def check_proof(proof: str | None, *, method: str, url: str, now: float,
                first_use: Callable[[str, int], bool],
                access_token: str | None = None, nonces: Nonces | None = None) -> Proof:
    """The proof's key thumbprint, once every §4.3 check passed. `first_use(jti, until)` is the
    replay cache: True the first time a jti is seen (it must remember it until `until`),
    asked once the signature verified. A cache behind a round trip may also offer
    `first_use.start(jti, until)`, a `PendingUse` or None (then `first_use` is asked): it is
    started before the signature's check and answered after it."""
    if not proof:
        raise ProofError("the DPoP header is missing")
    if len(proof) > MAX_PROOF_BYTES or "," in proof:
        raise ProofError("one DPoP proof, at most 8 KB")
    try:
        with untrusted.parsing():
            signed = jws.extract_compact(proof.encode("ascii"), registry=_REGISTRY)
    except (JoseError, ValueError, UnicodeError):
        raise ProofError("the DPoP proof is not a JWS") from None
    header = signed.protected
    if header.get("typ") != PROOF_TYPE:
        raise ProofError("the DPoP proof's typ must be dpop+jwt")
    alg = header.get("alg")
    if alg not in PROOF_ALGS:
        raise ProofError(f"the DPoP proof's alg must be one of {', '.join(PROOF_ALGS)}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise ProofError("the DPoP proof has no jwk header")
    if any(member in jwk for member in _PRIVATE_MEMBERS):
        raise ProofError("the DPoP proof's jwk holds a private key")
    try:
        key, jkt = _public_key(json.dumps(jwk, sort_keys=True, separators=(",", ":")))
    except (JoseError, ValueError, TypeError):
        raise ProofError("the DPoP proof's jwk is not a public key") from None
    if key.key_type == "RSA" and key.public_key.key_size < RSA_MIN_BITS:  # type: ignore[union-attr]
        raise ProofError(f"the DPoP proof's RSA key is under {RSA_MIN_BITS} bits (RFC 7518 3.3)")
    if key.key_type == "OKP" and key.get("crv") != "Ed25519":
        raise ProofError("the DPoP proof's OKP key must be Ed25519 (EdDSA)")
    try:
        claims: Any = untrusted.loads(signed.payload)
    except ValueError:
        raise ProofError("the DPoP proof's claims are not JSON") from None
    if not isinstance(claims, dict):
        raise ProofError("the DPoP proof's claims are not a JSON object")
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 256:
        raise ProofError("the DPoP proof needs a jti")
    if claims.get("htm") != method:
        raise ProofError(f"the DPoP proof's htm is not {method}")
    htu = claims.get("htu")
    if not isinstance(htu, str) or _without_query(htu) != _without_query(url):
        raise ProofError("the DPoP proof's htu is not this URL")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool) or abs(now - iat) > IAT_WINDOW:
        raise ProofError("the DPoP proof's iat is too far from now")
    if access_token is not None and claims.get("ath") != token_hash(access_token):
        raise ProofError("the DPoP proof's ath is not the hash of this access token")
    if nonces is not None and not nonces.valid(claims.get("nonce")):
        raise NonceRequired("send the DPoP proof again with the server's nonce",
                            nonces.current())
    until = int(iat) + IAT_WINDOW
    # A shared record across the network is asked now and answered after the signature's
    # check, which runs meanwhile.
    start = getattr(first_use, "start", None)
    pending: PendingUse | None = start(jti, until) if start is not None else None
    try:
        verified = jws.validate_compact(signed, key, [alg], registry=_REGISTRY)
    except (JoseError, ValueError, TypeError):
        verified = False
    except BaseException:
        if pending is not None:
            pending.drop()
        raise
    if not verified:
        if pending is not None:
            pending.drop()
        raise ProofError("the DPoP proof's signature does not verify with its jwk")
    if not (pending() if pending is not None else first_use(jti, until)):
        raise ProofError("this DPoP proof was used already (jti)")
    return Proof(jkt=jkt, jti=jti, iat=int(iat), alg=alg)


class PendingUse(Protocol):
    """A replay cache's answer on its way (see `check_proof`'s `first_use`)."""

    def __call__(self) -> bool:
        """True if the jti was not seen before."""

    def drop(self) -> None:
        """The proof failed: the answer is not needed (its jti counts as used all the same)."""


@functools.lru_cache(maxsize=1024)
def _public_key(jwk: str) -> tuple[Any, str]:
    """A proof's key and its thumbprint, made once per distinct JWK (its JSON, keys sorted):
    a client signs every proof with the same key, and importing it (an EC point's check, an
    RSA key's numbers) cost more than the proof's other checks together. Bounded, so many
    distinct keys only evict each other."""
    key = JWKRegistry.import_key(json.loads(jwk))
    return key, key.thumbprint()


class MemoryReplayCache:
    """A per-process jti cache for APIs that run alone (a service with protector_for_issuer);
    the authorization server shares its cache through Redis or the database
    (store/dpop_jtis.py), with one of these in front."""

    def __init__(self, clock: Callable[[], float] = time.time, limit: int = 100_000) -> None:
        self.clock = clock
        self.limit = limit
        self._seen: dict[str, int] = {}
        self._sweep_at = limit  # the size at which the stale jtis are swept out next
        self._lock = threading.Lock()

    def __call__(self, jti: str, until: int) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._seen) >= self._sweep_at:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
                # Live jtis are never dropped (a replay must stay refused), so the next sweep
                # waits until the cache has doubled: a sweep that frees little is not repeated
                # on every proof (it was: ~30 ms under this lock at 100,000 live jtis).
                self._sweep_at = max(self.limit, 2 * len(self._seen))
            if self._seen.get(jti, 0) > now:
                return False
            self._seen[jti] = until
            return True

    def forget(self, jti: str) -> None:
        """Not seen after all (the shared cache behind this one could not be asked)."""
        with self._lock:
            self._seen.pop(jti, None)
