"""Discovery metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): what this server really supports,
every URL derived from the issuer. Checked by Authlib's own metadata validators in the tests."""

from __future__ import annotations

from typing import Any

from ..policy import (
    ACR_VALUES_SUPPORTED,
    CLIENT_ASSERTION_ALGS,
    DEFAULT_SIGNING_ALG,
    OPENID_SCOPES,
    SCOPE_CLAIMS,
    SUPPORTED_AUTH_METHODS,
    SUPPORTED_GRANT_TYPES,
    SUPPORTED_SCOPES,
)
from ..resource_server.dpop import PROOF_ALGS
from ..store.apis import ApiRegistry
from .request_objects import REQUEST_OBJECT_ALGS


def scopes_supported(registry: ApiRegistry) -> list[str]:
    """The OpenID scopes, then every API's, the built-in sample API's first."""
    return [*OPENID_SCOPES, *registry.owners]


JWKS_PATH = "/.well-known/jwks.json"


def server_metadata(issuer: str, *, registration: bool = False, require_par: bool = False,
                    signing_algs: tuple[str, ...] = (DEFAULT_SIGNING_ALG,)) -> dict[str, Any]:
    introspection_methods = [m for m in SUPPORTED_AUTH_METHODS if m != "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}{JWKS_PATH}",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "device_authorization_endpoint": f"{issuer}/oauth/device_authorization",
        "pushed_authorization_request_endpoint": f"{issuer}/oauth/par",
        "dpop_signing_alg_values_supported": list(PROOF_ALGS),
        "require_pushed_authorization_requests": require_par,
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "scopes_supported": list(SUPPORTED_SCOPES),  # the registry's, at each request (wellknown)
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(signing_algs),
        "token_endpoint_auth_methods_supported": list(SUPPORTED_AUTH_METHODS),
        # RFC 8414 §2: REQUIRED wherever private_key_jwt is listed for that endpoint.
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": list(SUPPORTED_AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": introspection_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGS),
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "acr", "amr",
            *dict.fromkeys(name for names in SCOPE_CLAIMS.values() for name in names),
            "groups",
        ],
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),
        "claims_parameter_supported": True,
        # Signed request objects by value (RFC 9101); request_uri must be said to be off:
        # absent, it defaults to true (OIDC Discovery §3).
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        "authorization_response_iss_parameter_supported": True,
        # OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens carry sid.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        # RFC 8414 §2 / OIDC Discovery §3: only when AUTHSERVER_REGISTRATION is on.
        **({"registration_endpoint": f"{issuer}/oauth/register"} if registration else {}),
    }
