"""The token endpoint (RFC 6749 §3.2); the other OAuth endpoints live beside it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from .. import db
from ..oauth2 import WRITING_GRANT_TYPES

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


@bp.post("/token")
def token() -> Response:
    if request.form.get("grant_type") in WRITING_GRANT_TYPES:
        db.begin_write()
    return current_app.extensions["authserver.oauth2"].create_token_response()
