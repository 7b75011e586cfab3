"""The upstream side of federation: another OpenID provider's discovery, the authorization
code flow with it (Authlib's httpx client: PKCE S256, state, nonce, client_secret_basic), and
its ID token checked per OIDC Core §3.1.3.7 against its JWKS, followed through rotation
(resource_server.keys.RemoteIssuerKeys: a refetch on an unknown kid, at most one a second).

Every call has a bounded timeout (AUTHSERVER_UPSTREAM_TIMEOUT); every failure is an
UpstreamError whose message the user may read (it names no secret).
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from ..resource_server.keys import RemoteIssuerKeys

with warnings.catch_warnings():
    # Authlib 1.9 warns, on import, that its httpx client runs on httpx rather than httpx2;
    # httpx is the client the rest of the server uses, and every CLI command would print it.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

# Asymmetric signatures only: "none" and HMAC (keyed with our client secret) are refused.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_METADATA = ("authorization_endpoint", "token_endpoint", "jwks_uri")
JWKS_REFETCH_INTERVAL = 1.0  # seconds: how often an unknown kid may send us to the JWKS again
log = logging.getLogger("authserver")


class UpstreamError(Exception):
    """The provider could not be used, or answered what cannot be trusted."""


def read_discovery(issuer: str, timeout: float) -> dict[str, Any]:
    """The provider's OpenID discovery (OIDC Discovery §4), whose issuer must be `issuer`."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    # The issuer comes from whoever may add a provider (admin:write, `idp create`), and the
    # server fetches it from where it runs: the answer says only that the discovery could not
    # be read and the HTTP status if one came, never the network error's own words (refused,
    # no such name, reset, a TLS complaint), which would map what lies behind hosts the caller
    # cannot reach. The server's log keeps the words for the operator.
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        metadata = response.json()
    except httpx.HTTPStatusError as exc:
        raise UpstreamError(f"the provider's discovery could not be read at {url} "
                            f"(HTTP {exc.response.status_code})") from None
    except httpx.HTTPError as exc:
        log.warning("upstream discovery %s could not be read: %r", url, exc)
        raise UpstreamError(f"the provider's discovery could not be read at {url}") from None
    except ValueError:
        raise UpstreamError(f"{url} is not JSON") from None
    if not isinstance(metadata, dict):
        raise UpstreamError(f"{url} is not a JSON object")
    if metadata.get("issuer") != issuer:
        raise UpstreamError(f"the discovery at {url} names the issuer "
                            f"{metadata.get('issuer')!r}, not {issuer!r}")
    missing = [name for name in REQUIRED_METADATA if not isinstance(metadata.get(name), str)]
    if missing:
        raise UpstreamError(f"the discovery at {url} lacks {', '.join(missing)}")
    return metadata


class Upstream:
    """One provider, as configured (`idp create`), with its cached keys."""

    def __init__(self, *, issuer: str, client_id: str, client_secret: str, scope: str,
                 discovery: dict[str, Any], keys: RemoteIssuerKeys, timeout: float,
                 leeway: int) -> None:
        self.issuer, self.client_id, self.scope = issuer, client_id, scope
        self.discovery, self.keys, self.leeway = discovery, keys, leeway
        self._client_secret, self._timeout = client_secret, timeout

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id, client_secret=self._client_secret, scope=self.scope,
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic", timeout=self._timeout)

    def authorization_url(self, redirect_uri: str, *, state: str, nonce: str,
                          code_verifier: str) -> str:
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.discovery["authorization_endpoint"], state=state, nonce=nonce,
                code_verifier=code_verifier)
        return str(url)

    def redeem(self, code: str, redirect_uri: str, *, code_verifier: str,
               nonce: str, now: int) -> dict[str, Any]:
        """The code exchanged at the token endpoint; the verified claims of its ID token."""
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(self.discovery["token_endpoint"], code=code,
                                           code_verifier=code_verifier)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the provider's token endpoint failed: {exc}") from None
        except (AuthlibBaseError, ValueError) as exc:
            raise UpstreamError(f"the provider refused the code: {exc}") from None
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise UpstreamError("the provider's token response has no ID token")
        return self.verify_id_token(id_token, nonce, now)

    def verify_id_token(self, id_token: str, nonce: str, now: int) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signed by the provider's key (kid in its JWKS), iss, aud (and azp
        when several audiences), exp and iat, and the nonce of this sign-in."""
        try:
            header = extract_compact(id_token.encode()).protected
        except (JoseError, ValueError):
            raise UpstreamError("the provider's ID token is not a JWS") from None
        if header.get("alg") not in ID_TOKEN_ALGORITHMS:
            raise UpstreamError(f"the provider's ID token is signed with {header.get('alg')!r}")
        kid = header.get("kid")
        key = self.keys.get_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise UpstreamError("the provider's ID token is signed by a key it does not publish")
        try:
            claims = jwt.decode(id_token, key, algorithms=ID_TOKEN_ALGORITHMS).claims
            jwt.JWTClaimsRegistry(
                now=now, leeway=self.leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            raise UpstreamError(f"the provider's ID token is not valid: {exc}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise UpstreamError("the provider's ID token is meant for another client (azp)")
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise UpstreamError("the provider's ID token has no usable sub")
        return claims


_keys_lock = threading.Lock()
_keys_by_issuer: dict[tuple[str, str], RemoteIssuerKeys] = {}


def provider_keys(issuer: str, jwks_uri: str, timeout: float) -> RemoteIssuerKeys:
    """The cached keys of a provider, shared by the requests of this process."""
    with _keys_lock:
        keys = _keys_by_issuer.get((issuer, jwks_uri))
        if keys is None:
            keys = RemoteIssuerKeys(issuer, timeout=timeout,
                                    min_refetch_interval=JWKS_REFETCH_INTERVAL)
            _keys_by_issuer[(issuer, jwks_uri)] = keys
        return keys
