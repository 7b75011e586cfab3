"""Discovery (OIDC Discovery 1.0, RFC 8414) and the JWKS endpoint (RFC 7517)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .. import context
from ..oauth.metadata import JWKS_PATH

bp = Blueprint("wellknown", __name__)
# Discovery changes only with a deployment: caches may keep it an hour.
DISCOVERY_MAX_AGE = 3600


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    response = jsonify(context.metadata())
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
