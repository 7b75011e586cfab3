"""The token (RFC 6749 §3.2), revocation (RFC 7009) and introspection (RFC 7662) endpoints."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Blueprint, Response, request
from joserfc import jws
from joserfc.errors import JoseError
from werkzeug.datastructures import MultiDict

from .. import context, events
from ..errors import error_response
from ..ops import metrics
from ..policy import shown
from ..resource_server import untrusted
from .protocol import flask_response, protocol_request

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


def parameters() -> MultiDict[str, str]:
    """What the current back-channel request says: its form body (what protocol_request gives
    the grants)."""
    return request.form
# Requests that name no client at all share this throttle account (they all fail anyway).
ANONYMOUS = "-"


@bp.before_request
def _one_way_to_say_each_thing() -> Response | None:
    """Refused before anything reads them: a parameter given twice (RFC 6749 §3.2: "MUST NOT
    be included more than once"), two client authentication methods at once (§2.3: "MUST NOT
    use more than one"), and a Basic header that does not decode (§2.3.1)."""
    form = parameters()
    for name in form:
        if len(form.getlist(name)) > 1:
            if name == "resource":  # RFC 8707 §2.2: a token is for one API (INTERFACE.md)
                return error_response(400, "invalid_target",
                                      "a token is for one API: give at most one resource")
            return error_response(400, "invalid_request",
                                  f"the parameter '{shown(name)}' is given more than once")
    header = request.headers.get("Authorization", "")
    with_basic = header[:6].lower() == "basic "
    if with_basic and not _decodes(header[6:]):
        return error_response(401, "invalid_client", "the Basic credentials do not decode",
                              headers={"WWW-Authenticate": 'Basic error="invalid_client"'})
    methods = [with_basic, "client_secret" in form, "client_assertion" in form]
    if sum(methods) > 1:
        return error_response(400, "invalid_request",
                              "use one client authentication method per request")
    return None


def _decodes(credentials: str) -> bool:
    """base64 of UTF-8 "id:secret" (RFC 7617 §2)."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        return False
    return ":" in decoded


def presented_client_id() -> str:
    """Which client this request says it is, before it is authenticated: for the throttle's
    account. From the Basic header, the form's client_id, or a client assertion's `sub`
    (RFC 7523 §3: the client_id), so that failing assertions of one client do not lock out
    every assertion-authenticated client at the same address."""
    client_id, _ = extract_basic_authorization(request.headers)
    if client_id:
        return str(client_id)
    form = parameters()
    if form.get("client_id"):
        return form["client_id"]
    assertion = form.get("client_assertion")
    if assertion:
        try:
            with untrusted.parsing():
                subject = untrusted.loads(jws.extract_compact(assertion.encode()).payload).get("sub")
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
    grant_type = parameters().get("grant_type")
    address = request.remote_addr or "-"
    client_id = presented_client_id()
    username = parameters().get("username") if grant_type == "password" else None
    accounts = [("client", client_id)] + ([("user", username)] if username else [])
    throttle = context.throttle()
    for kind, account in accounts:
        wait = throttle.retry_after(kind, account, address)
        if wait:
            events.record("token.refused", "throttled", grant_type=grant_type,
                          client_id=client_id, username=username, address=address)
            metrics.token_answer(grant_type, "throttled")
            return too_many_attempts(wait)

    # The grant records the token.issued event itself (oauth/grants/linked.py).
    answer = context.oauth_server().create_token_response(protocol_request(back_channel=True))
    _record(answer.status, answer.json(), grant_type, client_id, username, address)
    return flask_response(answer)


def _record(status: int, body: dict[str, Any], grant_type: str | None, client_id: str,
            username: str | None, address: str) -> None:
    metrics.token_answer(grant_type, "issued" if status == 200 else "refused")
    if status == 200:
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
    return _endpoint("revocation")


@bp.post("/introspect")
def introspect() -> Response:
    return _endpoint("introspection")


@bp.post("/device_authorization")
def device_authorization() -> Response:
    """RFC 8628 §3.1: a device asks for a device code and a user code."""
    return _endpoint("device_authorization")


@bp.post("/par")
def pushed_authorization() -> Response:
    """RFC 9126 §2: an authorization request pushed by its client, for a request_uri."""
    return _endpoint("pushed_authorization")


def _endpoint(name: str) -> Response:
    answer = context.oauth_server().create_endpoint_response(
        name, protocol_request(back_channel=True))
    assert answer is not None  # these endpoints always answer
    return flask_response(answer)
