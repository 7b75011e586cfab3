"""A DPoP client's side (RFC 9449 §4): its key and the proofs it signs, with PyJWT and
cryptography, independent of the server's code."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# RFC 7638 §3.2: the members each key type's thumbprint covers.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                       "OKP": ("crv", "kty", "x")}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638."""
    members = json.dumps({k: jwk[k] for k in _THUMBPRINT_MEMBERS[jwk["kty"]]},
                         separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class DPoPKey:
    """ES256 by default; RS256 or PS256 with an RSA key of `bits`, or EdDSA (Ed25519)."""

    def __init__(self, alg: str = "ES256", bits: int = 2048) -> None:
        self.alg = alg
        private: Any
        if alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
            self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
        elif alg == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
            self.jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        self.private = private
        self.jkt = thumbprint(self.jwk)

    def proof(self, method: str, url: str, *, access_token: str | None = None,
              header: dict[str, Any] | None = None, **claims: Any) -> str:
        body: dict[str, Any] = {"jti": secrets.token_urlsafe(12), "htm": method, "htu": url,
                                "iat": int(time.time())}
        if access_token is not None:
            body["ath"] = ath(access_token)
        body.update(claims)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, self.private,
                          algorithm=self.alg, headers=headers)
