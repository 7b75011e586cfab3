"""The token (RFC 6749 §3.2), revocation (RFC 7009) and introspection (RFC 7662) endpoints."""

from __future__ import annotations

import base64
import json
from typing import Any

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Blueprint, Response, current_app, jsonify, request

from .. import audit, db, metrics
from ..oauth2 import WRITING_GRANT_TYPES, OAuth2Server
from ..ratelimit import FailureThrottle

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


def _server() -> OAuth2Server:
    return current_app.extensions["authserver.oauth2"]  # type: ignore[no-any-return]


def _throttle() -> FailureThrottle:
    return current_app.extensions["authserver.throttle"]  # type: ignore[no-any-return]


def presented_client_id() -> str:
    client_id, _ = extract_basic_authorization(request.headers)
    return str(client_id or request.form.get("client_id") or "-")


def too_many_attempts(wait: int) -> Response:
    response = jsonify(error="temporarily_unavailable",
                       error_description=f"too many failed attempts; retry in {wait} s")
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    response.headers["Cache-Control"] = "no-store"
    return response


def _claims_of(jwt_token: str) -> dict[str, Any]:
    """The payload of a token we just signed, for the audit line (no verification needed)."""
    try:
        payload = jwt_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        header = jwt_token.split(".")[0]
        kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("kid")
        return {"sub": claims.get("sub"), "jti": claims.get("jti"), "kid": kid}
    except (ValueError, IndexError):
        return {}


@bp.post("/token")
def token() -> Response:
    grant_type = request.form.get("grant_type")
    address = request.remote_addr or "-"
    client_id = presented_client_id()
    username = request.form.get("username") if grant_type == "password" else None
    accounts = [("client", client_id)] + ([("user", username)] if username else [])
    for kind, account in accounts:
        wait = _throttle().retry_after(kind, account, address)
        if wait:
            audit.event("token.refused", "throttled", grant_type=grant_type,
                        client_id=client_id, username=username, address=address)
            metrics.token_answer(grant_type, "throttled")
            return too_many_attempts(wait)

    if grant_type in WRITING_GRANT_TYPES:
        db.begin_write()
    response = _server().create_token_response()
    _record(response, grant_type, client_id, username, address)
    return response


def _record(response: Response, grant_type: str | None, client_id: str, username: str | None,
            address: str) -> None:
    body = response.get_json(silent=True) or {}
    metrics.token_answer(grant_type, "issued" if response.status_code == 200 else "refused")
    if response.status_code == 200:
        audit.event("token.issued", grant_type=grant_type, client_id=client_id, address=address,
                    scope=body.get("scope"), refresh_issued=bool(body.get("refresh_token")),
                    **_claims_of(body.get("access_token", "")))
        return
    error = body.get("error")
    audit.event("token.refused", "failure", grant_type=grant_type, client_id=client_id,
                username=username, address=address, error=error,
                error_description=body.get("error_description"))
    if error == "invalid_client":
        _throttle().failed("client", client_id, address)
    elif error == "invalid_grant" and username:
        _throttle().failed("user", username, address)


@bp.post("/revoke")
def revoke() -> Response:
    db.begin_write()
    return _server().create_endpoint_response("revocation")


@bp.post("/introspect")
def introspect() -> Response:
    return _server().create_endpoint_response("introspection")
