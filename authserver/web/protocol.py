"""Between Flask and the protocol layer: the current Flask request as oauth/http.py's request,
and the protocol's `Answer` as a Flask response. The only place the protocol meets Flask;
nothing under oauth/ imports it (an import-linter contract)."""

from __future__ import annotations

from flask import Response, json, request

from .. import context
from ..oauth.http import Answer, ProtocolJsonRequest, ProtocolRequest


def protocol_request(*, back_channel: bool) -> ProtocolRequest:
    """The current request. `back_channel`: the client's own request to us (token,
    introspection, revocation, device authorization, PAR), whose parameters are its form body
    alone; else (authorization, logout) the query or the form."""
    return ProtocolRequest(
        method=request.method, issuer=context.settings().issuer, path=request.path,
        query=request.query_string.decode("utf-8", "replace"), headers=request.headers,
        form=request.form, args=request.args,
        parameters=request.form if back_channel else request.values,
        address=request.remote_addr or "-", back_channel=back_channel)


def json_request() -> ProtocolJsonRequest:
    return ProtocolJsonRequest(
        method=request.method, issuer=context.settings().issuer, path=request.path,
        query=request.query_string.decode("utf-8", "replace"), headers=request.headers,
        load=request.get_json)


def flask_response(answer: Answer) -> Response:
    """The answer as it is: a dict body as JSON (as Authlib's Flask integration sends it)."""
    body = json.dumps(answer.body) if isinstance(answer.body, dict) else answer.body
    return Response(body, status=answer.status, headers=answer.headers)
