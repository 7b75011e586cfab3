"""Discovery (OIDC Discovery 1.0, RFC 8414) and the JWKS endpoint (RFC 7517)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import context
from ..oauth.metadata import JWKS_PATH, scopes_supported

bp = Blueprint("wellknown", __name__)
# Discovery changes with a deployment, and its scopes_supported with every API registered:
# caches may keep it five minutes.
DISCOVERY_MAX_AGE = 300


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    registry = context.store().apis.registry()
    response = jsonify({**context.metadata(),
                        "scopes_supported": scopes_supported(registry)})
    response.cache_control.public = True
    response.cache_control.max_age = DISCOVERY_MAX_AGE
    return response


@bp.get(JWKS_PATH)
def jwks() -> Response:
    response = Response(context.keystore().jwks_json(), mimetype="application/jwk-set+json")
    response.cache_control.public = True
    response.cache_control.max_age = context.settings().jwks_max_age
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(context.openapi())
