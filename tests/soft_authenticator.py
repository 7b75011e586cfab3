"""A WebAuthn authenticator in software, for the tests that talk HTTP without a browser: it
answers our options as Chromium's virtual authenticator would (packed "none" attestation,
ES256, a discoverable credential with a counter), and can be told to misbehave (an older
counter, no user verification). It is the other side of the protocol, not our code."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    origin: str
    user_verified: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | extra

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """navigator.credentials.create: a new discoverable credential for options' RP."""
        rp_id = options["rp"]["id"]
        credential = Credential(secrets.token_bytes(16), ec.generate_private_key(ec.SECP256R1()),
                                unb64url(options["user"]["id"]), rp_id)
        self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest()
                     + bytes([self._flags(AT)]) + struct.pack(">I", 0) + bytes(16)
                     + struct.pack(">H", len(credential.credential_id))
                     + credential.credential_id + cose_key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal"]}}

    def get(self, options: dict[str, Any], credential: Credential | None = None,
            sign_count: int | None = None) -> dict[str, Any]:
        """navigator.credentials.get: an assertion by `credential` (default: the last one
        made), its counter one up (or `sign_count`)."""
        credential = credential or self.credentials[-1]
        credential.sign_count = credential.sign_count + 1 if sign_count is None else sign_count
        auth_data = (hashlib.sha256(credential.rp_id.encode()).digest()
                     + bytes([self._flags()]) + struct.pack(">I", credential.sign_count))
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature),
                             "userHandle": b64url(credential.user_handle)}}
