"""One loaded, immutable view of the key store: what the hot path reads, swapped whole on
reload so that readers never see a mix of two states."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from .lifecycle import CURRENT, KeyInfo, one

# Members that only a private JWK has (RFC 7518 §6.3.2, §6.4.1): never published.
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class Snapshot:
    keys: tuple[KeyInfo, ...]
    signing_key: RSAKey
    signing_keyset: KeySet
    public_keyset: KeySet
    jwks: dict[str, Any]
    jwks_json: bytes
    stamp: Any  # the backend's change marker when this was read


def public_jwk(private: RSAKey, key: KeyInfo) -> dict[str, Any]:
    public = private.as_dict(private=False)
    public.update(kid=key.kid, alg=key.alg, use="sig")
    # Belt and braces: the JWKS is public, whatever the key object holds.
    return {k: v for k, v in public.items() if k not in PRIVATE_JWK_MEMBERS}


def build(keys: list[KeyInfo], private: dict[str, RSAKey], stamp: Any) -> Snapshot:
    current = private[one(keys, CURRENT).kid]
    public_jwks = [public_jwk(private[k.kid], k) for k in keys]
    jwks = {"keys": public_jwks}
    return Snapshot(
        keys=tuple(keys),
        signing_key=current,
        # A set holding only the current key: joserfc writes `kid` when it picks from a set.
        signing_keyset=KeySet([current]),
        public_keyset=KeySet([RSAKey.import_key(jwk) for jwk in public_jwks]),
        jwks=jwks,
        jwks_json=json.dumps(jwks, separators=(",", ":")).encode(),
        stamp=stamp,
    )
