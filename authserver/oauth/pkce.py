"""PKCE (RFC 7636) with the RFC 9700 §2.1.1 policy on top of Authlib's CodeChallenge."""

from __future__ import annotations

import re
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from ..models import Client

PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class StrictCodeChallenge(CodeChallenge):
    """S256 only (never `plain`, which is also what an omitted method means), and required for
    public clients already at the authorization request, where Authlib would only notice at the
    token request."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        client: Client = grant.request.client
        # RFC 9700 §2.1.1: "public clients MUST use PKCE"; FAPI 2.0 §5.3.2.2: every client.
        if not challenge and (client.is_public or client.security_profile.forces_pkce):
            raise InvalidRequestError("this client must use PKCE (code_challenge, S256)")
        # "... MUST use S256 ... 'plain' SHOULD NOT be used" (RFC 7636 §4.2, RFC 9700 §2.1.1).
        if challenge and method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 ('plain' is refused)")
        # Authlib's pattern ends in "$", which also matches before a trailing newline.
        if challenge and not PKCE_VALUE.fullmatch(challenge):
            raise InvalidRequestError("code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        verifier = grant.request.form.get("code_verifier")
        # RFC 7636 §4.1: code-verifier = 43*128unreserved, and nothing after it.
        if verifier and not PKCE_VALUE.fullmatch(verifier):
            raise InvalidRequestError("code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~")
        super().validate_code_verifier(grant, result)
