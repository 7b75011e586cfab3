"""Which algorithm a JWT we sign for a client uses, and the signature itself.

The client's choice (its ID token algorithm) or the API's (its access token algorithm) when
set, else the server's default (the first of AUTHSERVER_SIGNING_ALGS); a client's profile may
narrow what is allowed (FAPI 2.0: PS256, ES256 or EdDSA). The key is the store's current key
of that algorithm, from a one-key set: joserfc then writes its kid.
"""

from __future__ import annotations

import warnings
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning

from ..keystore import KeyStore
from ..models import Client

# joserfc warns on every use of "EdDSA" (RFC 9864 deprecates it for the fully specified
# "Ed25519"), but "EdDSA" is what FAPI 2.0 §5.4.1, OIDC and every relying party library name.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


def alg_for(client: Client, chosen: str | None, configured: tuple[str, ...]) -> str:
    return client.security_profile.signing_alg(chosen, configured)


def sign(keystore: KeyStore, header: dict[str, Any], claims: dict[str, Any], alg: str) -> str:
    return jwt.encode({**header, "alg": alg}, claims, keystore.signing_keyset(alg),
                      algorithms=[alg])
