"""Tokens verified the way a third party would: the issuer's discovery document, then its JWKS
over HTTP, with an independent JOSE library (PyJWT)."""

from __future__ import annotations

from typing import Any

import httpx
import jwt


class _JwksOver(jwt.PyJWKClient):
    """PyJWT's JWKS client, fetching with the test's HTTP client (real HTTP to a real server,
    WSGI to an app in process)."""

    def __init__(self, http: httpx.Client, uri: str) -> None:
        super().__init__(uri, cache_keys=False)
        self.http = http

    def fetch_data(self) -> Any:
        answer = self.http.get(self.uri)
        assert answer.status_code == 200, answer.text
        jwk_set = answer.json()
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        return jwk_set


class IndependentVerifier:
    """Verifies tokens the way a third party would: discovery, then JWKS over HTTP, with PyJWT."""

    def __init__(self, http: httpx.Client, issuer: str) -> None:
        self.issuer = issuer
        metadata = http.get(f"{issuer}/.well-known/openid-configuration").json()
        assert metadata["issuer"] == issuer
        self.jwks_client = _JwksOver(http, metadata["jwks_uri"])

    def verify(self, token: str, *, audience: str, typ: str | None = None) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if typ is not None:
            assert header.get("typ") == typ, header
        assert header.get("kid"), header
        key = self.jwks_client.get_signing_key(header["kid"])
        # The published key's algorithm, never the header's alone (RFC 8725 §3.1).
        assert header["alg"] == key.algorithm_name, header
        return jwt.decode(
            token, key.key, algorithms=[key.algorithm_name], audience=audience,
            issuer=self.issuer)
