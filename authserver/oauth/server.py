"""Authlib's Flask AuthorizationServer with our store, settings and key store attached.

Each response it builds ends the request's unit of work: committed when it succeeded (a token
response, an authorization redirect), rolled back when it is an error. So a token response is
written only once everything in it was built, the ID token's signature included.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import g

from ..config import Settings
from ..keystore import KeyStore
from ..models import Client
from ..store import Store
from ..store.refresh_tokens import Lifetimes


class Issuer(IssuerParameter):
    """RFC 9207: every authorization response, errors included, names the issuer."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


class OAuth2Server(AuthorizationServer):
    def __init__(self, settings: Settings, keystore: KeyStore, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.keystore = keystore
        self.store = store
        self.issuer_parameter = Issuer(settings.issuer)
        self.refresh_lifetimes = Lifetimes(
            ttl=settings.refresh_token_ttl,
            family_max_age=settings.refresh_family_max_age,
            grace=settings.refresh_grace_seconds,
        )

    def query_client(self, client_id: str) -> Client | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store the refresh token, if one was issued; access tokens are self-contained JWTs.
        A rotation's family row was already moved by the refresh grant's claim."""
        raw = token.get("refresh_token")
        if not raw:
            return
        refresh_tokens = self.store.refresh_tokens
        scope = token.get("scope", "")
        previous = getattr(request, "refresh_token", None)
        if previous is not None:
            family_id, generation = previous.family_id, request.claimed_generation
            expires_at = previous.family.expires_at
        else:
            code = getattr(request, "authorization_code", None)
            family_id, expires_at = refresh_tokens.start_family(
                client_id=request.client.client_id,
                user_id=request.user.id,
                scope=scope,
                auth_time=code.auth_time if code is not None else self.store.now(),
                authorization_code_id=code.id if code is not None else None,
                lifetimes=self.refresh_lifetimes,
            )
            generation = 0
        refresh_tokens.add(raw, family_id=family_id, generation=generation,
                           client_id=request.client.client_id, scope=scope, expires_at=expires_at)

    def create_oauth2_request(self, request: Any) -> Any:
        oauth_request = super().create_oauth2_request(request)
        oauth_request.settings = self.settings
        return oauth_request

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Any:
        # The body as built, for the token view's audit line (it need not parse it back).
        g.oauth_payload = payload
        if status_code < 400:
            self.store.commit()
        else:
            self.store.rollback()
        # Token responses and errors must never be cached (RFC 6749 §5.1, §5.2).
        headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "pragma")]
        headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return super().handle_response(status_code, payload, headers)
