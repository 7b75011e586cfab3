"""CORS (the Fetch standard's HTTP extensions): which pages may read which answers.

INTERFACE.md "Browsers and resource servers as callers":
- discovery and the JWKS are public documents: `Access-Control-Allow-Origin: *` always;
- the token, revocation and device authorization endpoints answer the origins of the client
  the request names, userinfo and the sample APIs those of the access token's client: the
  origins of its redirect URIs and its `--allowed-origin`s. Any other origin gets no CORS
  header and the request is handled as it would be without CORS;
- a preflight (OPTIONS with Access-Control-Request-Method) carries no credentials and names no
  client, so it cannot be judged by client: it answers 204 for the request's origin with the
  methods and headers the endpoint takes, and the actual request is then judged (as node
  oidc-provider does). Nothing is ever answered with Access-Control-Allow-Credentials: no
  endpoint here reads a cookie that a cross-origin page could ride on;
- every other path (the authorization endpoint, the HTML pages) never answers CORS.

Reading the client is left out of the hot path: only a request with an Origin header (a
browser's cross-origin call) looks, at the client the per-worker cache already holds.
Written by hand: flask-cors answers per path, not per client.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from .. import context
from ..models import Client
from ..store.client_metadata import web_origin
from .oauth import presented_client_id

PUBLIC = frozenset({"wellknown.discovery", "wellknown.jwks"})
BY_REQUEST_CLIENT = frozenset({"oauth.token", "oauth.revoke", "oauth.device_authorization"})
BY_TOKEN_CLIENT = frozenset({"userinfo.userinfo"})
TOKEN_BLUEPRINTS = frozenset({"api"})  # the sample APIs, whatever views they gain

ALLOW_HEADERS = "Authorization, Content-Type, DPoP"
EXPOSE_HEADERS = "WWW-Authenticate, DPoP-Nonce"
MAX_AGE = 3600  # seconds a browser may keep a preflight's answer


def _kind() -> str | None:
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC:
        return "public"
    if endpoint in BY_REQUEST_CLIENT:
        return "request_client"
    if endpoint in BY_TOKEN_CLIENT or request.blueprint in TOKEN_BLUEPRINTS:
        return "token_client"
    return None


def allowed_origins(client: Client) -> set[str]:
    """The origins whose pages may read this client's answers."""
    origins = {web_origin(uri) for uri in client.redirect_uris}
    origins.update(client.allowed_origins or [])
    origins.discard(None)
    return origins  # type: ignore[return-value]


def vary_on_origin(response: Response) -> None:
    """`Vary: Origin` added to what the response has. Werkzeug's `response.vary` parses the
    header into a set and writes it back on every change: a fifth of what the protector and
    CORS add to an /api/me request."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Origin"
    elif "origin" not in {part.strip().lower() for part in vary.split(",")}:
        response.headers["Vary"] = f"{vary}, Origin"


def _calling_client(kind: str) -> Client | None:
    if kind == "request_client":
        client_id: str | None = presented_client_id()
    else:
        client_id = g.get("token_client_id")
    if not isinstance(client_id, str) or not client_id:
        return None
    return context.store().clients.get_again(client_id)


def _preflight(kind: str, origin: str) -> Response:
    response = Response(status=204)
    # Every method of the path (a path may have one view per method: /api/notes).
    adapter = current_app.create_url_adapter(request)
    methods = sorted(set(adapter.allowed_methods() if adapter else ()) - {"HEAD", "OPTIONS"})
    response.headers["Access-Control-Allow-Origin"] = "*" if kind == "public" else origin
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
    if kind != "public":
        vary_on_origin(response)
    return response


def install(app: Flask) -> None:
    @app.before_request
    def _answer_preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        kind, origin = _kind(), request.headers.get("Origin")
        if kind is None or not origin:
            return None  # not ours to answer: Flask's plain OPTIONS answer, no CORS
        g.cors_preflight = True
        return _preflight(kind, origin)

    @app.after_request
    def _allow_origin(response: Response) -> Response:
        kind = _kind()
        if kind is None or g.get("cors_preflight"):
            return response
        if kind == "public":
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response
        vary_on_origin(response)  # the answer depends on it: caches must keep them apart
        origin = request.headers.get("Origin")
        if not origin:
            return response
        client = _calling_client(kind)
        if client is not None and origin in allowed_origins(client):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response
