"""DPoP at the token endpoint (RFC 9449 §5): a proof binds the tokens issued to the client's
key (`cnf.jkt`, token_type DPoP). Clients registered `--dpop-bound` must send one; a public
client's refresh tokens stay bound to the key that first got them; a code asked for with
`dpop_jkt` (§10) is exchanged only with that key's proof. The proof checks are the resource
server's (resource_server/dpop.py); the replay cache (store/dpop_jtis.py) is shared by every
worker and host: Redis when configured, else the database.

`DPoPBinding` is an Authlib grant extension (`register_grant(Grant, [..., DPoPBinding(...)])`):
it hooks each grant it is registered on, and reads the request from the grant.
"""

from __future__ import annotations

import re
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError

from ..models import Client
from ..resource_server.dpop import NonceRequired, Nonces, ProofError, check_proof
from ..store import Store

TOKEN_PATH = "/oauth/token"
# RFC 7638 with SHA-256: 32 bytes in base64url, 43 characters.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


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


def bound_key(request: Any) -> str | None:
    """The DPoP key the grant a token request continues is bound to: the code's dpop_jkt
    (§10), or the refresh token family's (a public client's, §5); None for any other."""
    if request.authorization_code is not None:
        return request.authorization_code.dpop_jkt  # type: ignore[no-any-return]
    if request.refresh_token is not None:
        return request.refresh_token.family.dpop_jkt  # type: ignore[no-any-return]
    return None


class DPoPBinding:
    """The grant extension: at the authorization endpoint, `dpop_jkt` must be a thumbprint;
    at the token endpoint, the request's proof (or its absence) decides the key its tokens
    are bound to, `request.dpop_jkt`, which a public client's new grant keeps too
    (`request.grant_dpop_jkt`). Runs on the grant's `before_issue_token` hook (grants/
    linked.py), after the token's API is chosen and before anything is signed or stored."""

    def __init__(self, store: Store, issuer: str, nonces: Nonces | None = None) -> None:
        self.store = store
        self.issuer = issuer
        self.nonces = nonces  # server nonces (§8), when AUTHSERVER_DPOP_NONCE is on

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.check_jkt)
        grant.register_hook("before_issue_token", self.bind)

    def check_jkt(self, grant: Any, _result: None) -> None:
        jkt = grant.request.payload.data.get("dpop_jkt")
        if jkt is not None and not (isinstance(jkt, str) and _THUMBPRINT.fullmatch(jkt)):
            raise InvalidRequestError("dpop_jkt must be a JWK SHA-256 thumbprint (RFC 9449 10)")

    def bind(self, grant: Any, user: Any, scope: str) -> None:
        request = grant.request
        jkt = token_request_key(self.store, self.issuer, request.client, request.headers,
                                bound_key(request), self.nonces)
        request.dpop_jkt = jkt
        # A public client's refresh tokens are bound to the key (RFC 9449 §5).
        request.grant_dpop_jkt = jkt if request.client.is_public else None
