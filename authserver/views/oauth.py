"""The token (RFC 6749 §3.2), revocation (RFC 7009) and introspection (RFC 7662) endpoints."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from .. import db
from ..oauth2 import WRITING_GRANT_TYPES, OAuth2Server

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


@bp.post("/token")
def token() -> Response:
    if request.form.get("grant_type") in WRITING_GRANT_TYPES:
        db.begin_write()
    return _server().create_token_response()


@bp.post("/revoke")
def revoke() -> Response:
    db.begin_write()
    return _server().create_endpoint_response("revocation")


@bp.post("/introspect")
def introspect() -> Response:
    return _server().create_endpoint_response("introspection")


def _server() -> OAuth2Server:
    return current_app.extensions["authserver.oauth2"]
