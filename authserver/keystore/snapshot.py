"""One loaded, immutable view of the key store: what the hot path reads, swapped whole on
reload so that readers never see a mix of two states."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import Key, KeySet

from .algorithms import public_key
from .lifecycle import CURRENT, KeyInfo, KeyStoreError, algorithms_of, one

# Members that only a private JWK has (RFC 7518 §6.3.2, §6.4.1, RFC 8037 §2): never published.
PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class Snapshot:
    keys: tuple[KeyInfo, ...]
    # Per algorithm, its current key and a set holding only it (joserfc writes `kid` when it
    # picks the key from a set).
    signing: dict[str, tuple[Key, KeySet]]
    public_keyset: KeySet
    jwks: dict[str, Any]
    jwks_json: bytes
    stamp: Any  # the backend's change marker when this was read

    def signing_pair(self, alg: str) -> tuple[Key, KeySet]:
        found = self.signing.get(alg)
        if found is None:
            raise KeyStoreError(f"the key store has no {alg} key: run `authserver serve` once "
                                "or `authserver keys rotate` (they create the first keys of a "
                                "newly configured algorithm)")
        return found


def public_jwk(private: Key, key: KeyInfo) -> dict[str, Any]:
    public = private.as_dict(private=False)
    public.update(kid=key.kid, alg=key.alg, use="sig")
    # Belt and braces: the JWKS is public, whatever the key object holds.
    return {k: v for k, v in public.items() if k not in PRIVATE_JWK_MEMBERS}


def build(keys: list[KeyInfo], private: dict[str, Key], stamp: Any) -> Snapshot:
    signing = {}
    for alg in algorithms_of(keys):
        current = private[one(keys, CURRENT, alg).kid]
        signing[alg] = (current, KeySet([current]))
    public_jwks = [public_jwk(private[k.kid], k) for k in keys]
    jwks = {"keys": public_jwks}
    return Snapshot(
        keys=tuple(keys),
        signing=signing,
        public_keyset=KeySet([public_key(jwk, jwk["alg"]) for jwk in public_jwks]),
        jwks=jwks,
        jwks_json=json.dumps(jwks, separators=(",", ":")).encode(),
        stamp=stamp,
    )
