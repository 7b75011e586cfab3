"""Pushed authorization requests (RFC 9126): the client sends its authorization request to
/oauth/par (authenticated as at the token endpoint) and gets a request_uri, a URN valid 60 s,
that the browser then carries to /oauth/authorize instead of the parameters.

Written by hand: Authlib has no PAR endpoint. The pushed request is checked by the steps
of an authorization request (authorization_request.py, §2.1) before it is stored, and so is a
DPoP proof if one is sent (RFC 9449 §10.1: its key becomes the request's dpop_jkt); the
authorization endpoint checks it again when the browser brings its request_uri.
"""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import InvalidRequestError

from ..config import Settings
from ..policy import CONFIDENTIAL_AUTH_METHODS
from ..store import Store
from .authorization_request import validate_pushed
from .dpop import proved_key
from .request_objects import sent_parameters

ENDPOINT_NAME = "pushed_authorization"
PAR_PATH = "/oauth/par"
REQUEST_URI_TTL = 60  # seconds (RFC 9126 §2.2: "short-lived"; FAPI 2.0 §5.3.2.2: at most 600)


class PushedAuthorization:
    ENDPOINT_NAME = ENDPOINT_NAME
    CLIENT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.server: Any = None  # the OAuth2Server, set by create_server

    def create_endpoint_request(self, request: Any) -> Any:
        return self.server.create_oauth2_request(request)

    def __call__(self, request: Any) -> tuple[int, dict[str, Any], Any]:
        client = self.server.authenticate_client(request, self.CLIENT_AUTH_METHODS,
                                                 ENDPOINT_NAME)
        raw = sent_parameters(request.payload.data)  # the form body (server.BodyPayload)
        if "request_uri" in raw:
            raise InvalidRequestError("request_uri cannot be pushed (RFC 9126 section 2.1)")
        if raw.get("client_id", client.client_id) != client.client_id:
            raise InvalidRequestError("client_id is not the authenticated client")
        raw["client_id"] = client.client_id
        for name in ("client_secret", "client_assertion", "client_assertion_type"):
            raw.pop(name, None)  # the client's credentials, not the request's
        pushed = validate_pushed(self.server, client, raw).parameters
        self._bind_to_proof(pushed, client, request.headers)
        # The parameters (a request object's verified claims): the authorization endpoint
        # validates them again as the request they then are.
        request_uri = self.store.pushed_requests.push(client.client_id, pushed, REQUEST_URI_TTL)
        return 201, {"request_uri": request_uri, "expires_in": REQUEST_URI_TTL}, \
            default_json_headers

    def _bind_to_proof(self, pushed: dict[str, Any], client: Any, headers: Any) -> None:
        """RFC 9449 §10.1: a DPoP proof sent with the push is checked, and its key is then the
        request's dpop_jkt (the code is exchanged only with that key); with a dpop_jkt too,
        "the authorization server MUST reject the request if the JWK Thumbprint in dpop_jkt
        does not match the public key in the DPoP header"."""
        jkt = proved_key(self.store, self.settings.issuer + PAR_PATH, client, headers,
                         self.server.dpop_nonces)
        if jkt is None:
            return
        if pushed.get("dpop_jkt", jkt) != jkt:
            raise InvalidRequestError("the DPoP proof's key is not the dpop_jkt given")
        pushed["dpop_jkt"] = jkt
