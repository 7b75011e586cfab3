"""Discovery (OIDC Discovery 1.0, RFC 8414) and the JWKS endpoint (RFC 7517)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..client_auth import SIGNING_ALGS as CLIENT_ASSERTION_ALGS
from ..oauth2 import SUPPORTED_AUTH_METHODS, SUPPORTED_GRANT_TYPES, SUPPORTED_SCOPES
from ..tokens import SIGNING_ALG

bp = Blueprint("wellknown", __name__)

JWKS_PATH = "/.well-known/jwks.json"


def server_metadata(issuer: str) -> dict[str, Any]:
    """What this server really supports; every URL is derived from the issuer."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}{JWKS_PATH}",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SIGNING_ALG],
        "token_endpoint_auth_methods_supported": list(SUPPORTED_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(SUPPORTED_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": [
            m for m in SUPPORTED_AUTH_METHODS if m != "none"
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGS),
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "preferred_username", "email", "email_verified",
        ],
        "authorization_response_iss_parameter_supported": True,
    }


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    response = jsonify(current_app.extensions["authserver.metadata"])
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get(JWKS_PATH)
def jwks() -> Response:
    keystore = current_app.extensions["authserver.keystore"]
    response = Response(keystore.jwks_json(), mimetype="application/jwk-set+json")
    response.cache_control.public = True
    response.cache_control.max_age = current_app.extensions["authserver.settings"].jwks_max_age
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(current_app.extensions["authserver.openapi"])
