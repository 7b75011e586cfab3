"""The protocol layer runs outside any Flask request (issue #25, step 1): the server the app
builds, given a request as oauth/http.py describes it, answers with data (status, body,
headers), and its grant records token.issued itself. The import contract keeps flask out of
oauth/'s imports; this keeps it out of what oauth/ reaches for when it runs (a Flask global
read here would fail: there is no app or request context)."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context, has_request_context
from werkzeug.datastructures import Headers, MultiDict

from authserver.config import Settings
from authserver.events import security_event
from authserver.oauth.http import Answer, ProtocolRequest
from tests.helpers import basic, make_client, verify

ADDRESS = "192.0.2.7"


def _token_request(settings: Settings, form: dict[str, str],
                   headers: dict[str, str]) -> ProtocolRequest:
    body = MultiDict(form)
    return ProtocolRequest(method="POST", issuer=settings.issuer, path="/oauth/token", query="",
                           headers=Headers(headers), form=body, args=MultiDict(),
                           parameters=body, address=ADDRESS, back_channel=True)


def _answer(app: Flask, request: ProtocolRequest) -> tuple[Answer, list[tuple[str, Any]]]:
    """The server's answer, and the security events recorded meanwhile."""
    assert not has_app_context() and not has_request_context()
    seen: list[tuple[str, Any]] = []

    def listen(name: str, outcome: str, fields: dict[str, Any]) -> None:
        seen.append((name, fields))

    with security_event.connected_to(listen):
        answer = app.extensions["authserver.oauth2"].create_token_response(request)
    return answer, seen


def test_a_token_request_is_answered_without_flask(app: Flask, settings: Settings) -> None:
    client_id, secret = make_client(app, grant_types=["client_credentials"], scope="profile")
    answer, seen = _answer(app, _token_request(
        settings, {"grant_type": "client_credentials"}, basic(client_id, secret)))
    assert isinstance(answer, Answer) and answer.status == 200, answer.body
    assert answer.header("Cache-Control") == "no-store"  # RFC 6749 §5.1
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "profile"
    claims = verify(app, body["access_token"], settings.api_audience)
    issued = [fields for name, fields in seen if name == "token.issued"]
    assert len(issued) == 1
    assert issued[0]["jti"] == claims["jti"] and issued[0]["sub"] == client_id
    assert issued[0]["client_id"] == client_id and issued[0]["address"] == ADDRESS
    assert issued[0]["grant_type"] == "client_credentials" and issued[0]["kid"]


def test_a_refusal_is_data_too_and_issues_nothing(app: Flask, settings: Settings) -> None:
    client_id, _ = make_client(app, grant_types=["client_credentials"], scope="profile")
    answer, seen = _answer(app, _token_request(
        settings, {"grant_type": "client_credentials"}, basic(client_id, "wrong")))
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"
    assert answer.header("Cache-Control") == "no-store"  # RFC 6749 §5.2
    assert not [name for name, _ in seen if name == "token.issued"]


def test_every_back_channel_answer_carries_the_next_dpop_nonce(settings: Settings) -> None:
    """RFC 9449 §8.2: with server nonces on, the protocol adds the next nonce to every answer
    to a client's own request (the request says it is one; no blueprint's name is asked), and
    to no page of the browser's."""
    from authserver import create_app

    app = create_app(settings.override(dpop_nonce=True))
    try:
        client_id, secret = make_client(app, grant_types=["client_credentials"], scope="profile")
        http = app.test_client()
        for path, form in (("/oauth/token", {"grant_type": "client_credentials"}),
                           ("/oauth/introspect", {"token": "not-a-token"}),
                           ("/oauth/revoke", {"token": "not-a-token"}),
                           ("/oauth/par", {"response_type": "code"}),  # refused: still ours
                           ("/oauth/device_authorization", {})):  # not its grant: refused
            answer = http.post(path, headers=basic(client_id, secret), data=form)
            assert answer.headers.get("DPoP-Nonce"), (path, answer.status_code, answer.json)
        assert "DPoP-Nonce" not in http.get("/oauth/logout").headers
    finally:
        app.extensions["authserver.db"].dispose()
