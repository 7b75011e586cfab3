"""The token (RFC 6749 §3.2), revocation (RFC 7009) and introspection (RFC 7662) endpoints."""

from __future__ import annotations

import json
from typing import Any

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Blueprint, Response, g, request
from joserfc import jws
from joserfc.errors import JoseError

from .. import context, events
from ..errors import error_response
from ..oauth.access_tokens import last_signed
from ..ops import metrics

bp = Blueprint("oauth", __name__, url_prefix="/oauth")
# Requests that name no client at all share this throttle account (they all fail anyway).
ANONYMOUS = "-"


def presented_client_id() -> str:
    """Which client this request says it is, before it is authenticated: for the throttle's
    account. From the Basic header, the form's client_id, or a client assertion's `sub`
    (RFC 7523 §3: the client_id), so that failing assertions of one client do not lock out
    every assertion-authenticated client at the same address."""
    client_id, _ = extract_basic_authorization(request.headers)
    if client_id:
        return str(client_id)
    if request.form.get("client_id"):
        return request.form["client_id"]
    assertion = request.form.get("client_assertion")
    if assertion:
        try:
            subject = json.loads(jws.extract_compact(assertion.encode()).payload).get("sub")
        except (JoseError, ValueError, UnicodeError, AttributeError):
            subject = None
        if isinstance(subject, str) and subject:
            return subject
    return ANONYMOUS


def too_many_attempts(wait: int) -> Response:
    return error_response(429, "temporarily_unavailable",
                          f"too many failed attempts; retry in {wait} s",
                          headers={"Retry-After": str(wait)})


@bp.post("/token")
def token() -> Response:
    grant_type = request.form.get("grant_type")
    address = request.remote_addr or "-"
    client_id = presented_client_id()
    username = request.form.get("username") if grant_type == "password" else None
    accounts = [("client", client_id)] + ([("user", username)] if username else [])
    throttle = context.throttle()
    for kind, account in accounts:
        wait = throttle.retry_after(kind, account, address)
        if wait:
            events.record("token.refused", "throttled", grant_type=grant_type,
                          client_id=client_id, username=username, address=address)
            metrics.token_answer(grant_type, "throttled")
            return too_many_attempts(wait)

    response = context.oauth_server().create_token_response()
    _record(response.status_code, g.get("oauth_payload") or {}, grant_type, client_id,
            username, address)
    return response


def _record(status: int, body: dict[str, Any], grant_type: str | None, client_id: str,
            username: str | None, address: str) -> None:
    metrics.token_answer(grant_type, "issued" if status == 200 else "refused")
    if status == 200:
        signed = last_signed()
        events.record("token.issued", grant_type=grant_type, client_id=client_id, address=address,
                      scope=body.get("scope"), refresh_issued=bool(body.get("refresh_token")),
                      sub=signed and signed.sub, jti=signed and signed.jti,
                      kid=signed and signed.kid)
        return
    error = body.get("error")
    events.record("token.refused", "failure", grant_type=grant_type, client_id=client_id,
                  username=username, address=address, error=error,
                  error_description=body.get("error_description"))
    if error == "invalid_client":
        context.throttle().failed("client", client_id, address)
    elif error == "invalid_grant" and username:
        context.throttle().failed("user", username, address)


@bp.post("/revoke")
def revoke() -> Response:
    return context.oauth_server().create_endpoint_response("revocation")


@bp.post("/introspect")
def introspect() -> Response:
    return context.oauth_server().create_endpoint_response("introspection")
