"""Which algorithm a JWT we sign for a client uses, and the signature itself.

The client's choice (its ID token algorithm) or the API's (its access token algorithm) when
set, else the server's default (the first of AUTHSERVER_SIGNING_ALGS); a client's profile may
narrow what is allowed (FAPI 2.0: PS256, ES256 or EdDSA). The key is the store's current key
of that algorithm, looked up once per signature, so its kid is the one in the header.
"""

from __future__ import annotations

import warnings
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from ..keystore import SIGNING_ALGS
from ..models import Client

# joserfc warns on every use of "EdDSA" (RFC 9864 deprecates it for the fully specified
# "Ed25519"), but "EdDSA" is what FAPI 2.0 §5.4.1, OIDC and every relying party library name.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


def alg_for(client: Client, chosen: str | None, configured: tuple[str, ...]) -> str:
    return client.security_profile.signing_alg(chosen, configured)


# One registry per algorithm, made once (joserfc would build one per signature).
_REGISTRIES = {alg: JWSRegistry(algorithms=[alg]) for alg in SIGNING_ALGS}


def sign(key: Key, header: dict[str, Any], claims: dict[str, Any], alg: str) -> str:
    """`key`: the store's current key of `alg` (KeyStore.signing_key), read once by the caller.
    The key itself, not a set to pick from: joserfc's pick cost a tenth of an ES256 token."""
    return jwt.encode({**header, "alg": alg, "kid": key.kid}, claims, key,
                      registry=_REGISTRIES[alg])
