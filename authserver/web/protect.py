"""`require_token(scope)` for this app's views: the resource protector bound to the current app.

Blueprints are defined once per process but an app is built per test (with its own keys), so
the decorator looks the app's validator up at request time instead of capturing one.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import g
from flask import request as flask_request

from .. import context
from ..ops.metrics import validation_failed
from ..resource_server import AccessTokenValidator, BearerProtector


class _CurrentAppValidator(BearerTokenValidator):
    def _validator(self) -> AccessTokenValidator:
        return context.validator()

    def authenticate_token(self, token_string: str) -> Any:
        claims = self._validator().authenticate_token(token_string)
        # Its signature verified: whatever is refused next (expiry, scope, a DPoP proof), the
        # answer is for this client's pages to read (web/cors.py).
        g.token_client_id = claims.get("client_id")
        return claims

    def validate_token(self, token: Any, scopes: Any, request: Any, **kwargs: Any) -> None:
        self._validator().validate_token(token, scopes, request, **kwargs)


class _CurrentAppOwnValidator(_CurrentAppValidator):
    def _validator(self) -> AccessTokenValidator:
        return context.own_validator()


def _public_url() -> str:
    """A DPoP proof names the URL the client called: the issuer's, whatever the Host header."""
    return context.settings().issuer + flask_request.path


# The sample APIs: tokens for the sample API's audience only.
require_token = BearerProtector(on_failure=validation_failed, public_url=_public_url)
require_token.register_token_validator(_CurrentAppValidator())
# The server's own endpoints (userinfo): a token for any registered API.
require_token_for_any_api = BearerProtector(on_failure=validation_failed, public_url=_public_url)
require_token_for_any_api.register_token_validator(_CurrentAppOwnValidator())


class _CurrentAppAdminValidator(_CurrentAppValidator):
    def _validator(self) -> AccessTokenValidator:
        return context.admin_validator()


# The administration API (/admin/v1): tokens for `<issuer>/admin` only, Bearer or DPoP.
require_admin_token = BearerProtector(on_failure=validation_failed, public_url=_public_url)
require_admin_token.register_token_validator(_CurrentAppAdminValidator())
