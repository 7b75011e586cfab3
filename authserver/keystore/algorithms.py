"""The signing algorithms a key of the store may have (RFC 7518 §3, RFC 8037 §3.1), and for
each the key it needs: made, checked and wrapped as a JWK with cryptography and joserfc.

RS256 and PS256 sign with RSA keys of AUTHSERVER_KEY_SIZE bits (never one key for both: a key
has one algorithm, RFC 8725 §3.1), ES256 with a P-256 key, EdDSA with an Ed25519 key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from ..policy import SIGNING_ALGS as POLICY_ALGS
from .lifecycle import KeyStoreError

RSA_MIN_BITS = 2048  # RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"


@dataclass(frozen=True)
class Algorithm:
    name: str
    kind: str  # what the key is, for messages
    generate: Callable[[int], Any]  # key size (RSA only) -> a cryptography private key
    fits: Callable[[Any], bool]  # is this cryptography private key one for the algorithm?
    jwk: type[Key]

    def wrap(self, private: Any, kid: str, where: str) -> Key:
        """The private key as a JWK of this algorithm, checked against its kid (the RFC 7638
        thumbprint: a file or row holding another key is refused)."""
        if not self.fits(private):
            raise KeyStoreError(f"{where} is not {self.kind} private key ({self.name})")
        jwk = self.jwk.import_key(private, {"alg": self.name, "use": "sig"})  # type: ignore[attr-defined]
        if jwk.thumbprint() != kid:
            raise KeyStoreError(f"{where} does not hold the key {kid} (thumbprint mismatch)")
        jwk.ensure_kid()
        return jwk  # type: ignore[no-any-return]

    def thumbprint(self, private: Any) -> str:
        return str(self.jwk.import_key(private).thumbprint())  # type: ignore[attr-defined]


def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _is_rsa(private: Any) -> bool:
    return isinstance(private, rsa.RSAPrivateKey) and private.key_size >= RSA_MIN_BITS


def _is_p256(private: Any) -> bool:
    return (isinstance(private, ec.EllipticCurvePrivateKey)
            and isinstance(private.curve, ec.SECP256R1))


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a for a in (
        Algorithm("RS256", "an RSA (2048 bits or more)", _rsa, _is_rsa, RSAKey),
        Algorithm("PS256", "an RSA (2048 bits or more)", _rsa, _is_rsa, RSAKey),
        Algorithm("ES256", "a P-256", lambda _: ec.generate_private_key(ec.SECP256R1()),
                  _is_p256, ECKey),
        Algorithm("EdDSA", "an Ed25519", lambda _: ed25519.Ed25519PrivateKey.generate(),
                  lambda private: isinstance(private, ed25519.Ed25519PrivateKey), OKPKey),
    )
}
SIGNING_ALGS = tuple(ALGORITHMS)
assert SIGNING_ALGS == POLICY_ALGS, "policy.SIGNING_ALGS and the key store's must agree"


def algorithm(name: str) -> Algorithm:
    found = ALGORITHMS.get(name)
    if found is None:
        raise KeyStoreError(f"unknown signing algorithm {name!r}; supported: "
                            + " ".join(SIGNING_ALGS))
    return found


def public_key(jwk: dict[str, Any], alg: str) -> Key:
    """A published key as joserfc's JWK of its algorithm's type."""
    return algorithm(alg).jwk.import_key(jwk)  # type: ignore[attr-defined, no-any-return]
