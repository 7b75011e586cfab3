"""Security headers: nosniff and no-referrer everywhere; a strict CSP and frame denial on pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from authserver import create_app
from authserver.config import Settings

from .helpers import make_client
from .support import ServerProcess


def test_every_response_has_nosniff_and_no_referrer(client: FlaskClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json", "/healthz",
                 "/nope"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


def test_login_page_has_a_strict_csp_and_cannot_be_framed(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    client_id, _ = make_client(app, grant_types=["authorization_code"],
                               redirect_uris=["https://app.example.com/cb"], auth_method="none")
    response = client.get("/oauth/authorize", query_string={
        "response_type": "code", "client_id": client_id, "redirect_uri": "https://app.example.com/cb",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256", "scope": "openid"})
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # no scripts at all
    # The consent form ends in a redirect to the client: that origin, and only it, is allowed.
    assert "form-action 'self' https://app.example.com" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_json_responses_get_no_page_policy(client: FlaskClient) -> None:
    response = client.get("/.well-known/openid-configuration")
    assert "Content-Security-Policy" not in response.headers


def test_security_headers_over_http(server: ServerProcess) -> None:
    api = server.http.get("/api/me")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["Referrer-Policy"] == "no-referrer"
    token = server.http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert token.headers["Cache-Control"] == "no-store"
    page = server.http.get("/oauth/authorize", params={"client_id": "unknown"})
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, "max-age=31536000"), ({"AUTHSERVER_HSTS_MAX_AGE": "600"}, "max-age=600"),
    ({"AUTHSERVER_HSTS_MAX_AGE": "0"}, None)])
def test_an_https_issuer_sends_strict_transport_security(
    settings: Settings, extra: dict[str, str], expected: str | None
) -> None:
    # The app in process, configured from the environment as `serve` would be.
    configured = Settings.from_env({
        "AUTHSERVER_ISSUER": "https://login.example.test",
        "AUTHSERVER_DATABASE_URL": settings.database_url,
        "AUTHSERVER_KEYS_DIR": settings.keys_dir,
        "AUTHSERVER_INSTANCE_DIR": settings.instance_dir, **extra})
    app = create_app(configured)
    try:
        client = app.test_client()
        for path in ("/healthz", "/.well-known/jwks.json", "/oauth/authorize"):
            assert client.get(path).headers.get("Strict-Transport-Security") == expected
    finally:
        app.extensions["authserver.db"].dispose()


def test_a_plain_http_issuer_sends_no_strict_transport_security(server: ServerProcess) -> None:
    assert "Strict-Transport-Security" not in server.http.get("/healthz").headers
