"""DPoP at the token endpoint (RFC 9449 §5): a proof binds the tokens issued to the client's
key (`cnf.jkt`, token_type DPoP). Clients registered `--dpop-bound` must send one; a public
client's refresh tokens stay bound to the key that first got them. The proof checks are the
resource server's (resource_server/dpop.py); the replay cache (store/dpop_jtis.py) is
shared by every worker and host: Redis when configured, else the database."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error

from ..models import Client
from ..resource_server.dpop import NonceRequired, Nonces, ProofError, check_proof
from ..store import Store

TOKEN_PATH = "/oauth/token"


class InvalidDPoPProof(OAuth2Error):
    error = "invalid_dpop_proof"
    status_code = 400


class UseDPoPNonce(OAuth2Error):
    """§8.1: "use_dpop_nonce", with the nonce to use in the DPoP-Nonce header."""

    error = "use_dpop_nonce"
    status_code = 400

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("DPoP-Nonce", self.nonce)]


def replay_cache(store: Store):  # type: ignore[no-untyped-def]
    """jti -> first use? for the APIs (in the database: its own short transaction)."""
    return store.dpop_jtis.first_use


def token_request_key(store: Store, issuer: str, client: Client, headers: Any,
                      bound: str | None, nonces: Nonces | None = None) -> str | None:
    """The thumbprint of the key this token request proves, or None without a proof (when
    neither the client nor the grant needs one). `bound`: the key the grant is bound to."""
    jkt = proved_key(store, issuer + TOKEN_PATH, client, headers, nonces)
    if jkt is None:
        if client.dpop_bound or bound is not None:
            raise InvalidDPoPProof("this client's tokens are DPoP-bound: send a DPoP proof")
        return None
    if bound is not None and jkt != bound:
        raise InvalidDPoPProof("this grant is bound to another DPoP key")
    return jkt


def proved_key(store: Store, url: str, client: Client, headers: Any,
               nonces: Nonces | None = None) -> str | None:
    """The thumbprint of the key whose proof this POST to `url` carries (the token and PAR
    endpoints; `headers`: the request's), or None without a DPoP header; a bad proof, or one
    in an algorithm the client's profile does not allow, is invalid_dpop_proof."""
    header = headers.get("DPoP")
    if header is None:
        return None
    try:
        # In the database, the request's own transaction keeps the jti: a refresh holds
        # SQLite's write lock by now, which a second connection would wait on.
        proof = check_proof(header, method="POST", url=url, now=store.now(),
                            first_use=store.dpop_jtis.first_use_here, nonces=nonces)
    except NonceRequired as exc:
        raise UseDPoPNonce(exc.description, exc.nonce) from None
    except ProofError as exc:
        raise InvalidDPoPProof(exc.description) from None
    if not client.security_profile.accepts_alg(proof.alg):
        raise InvalidDPoPProof("this client's DPoP proofs must be signed with "
                               + ", ".join(client.security_profile.accepted_algs()))
    return proof.jkt
