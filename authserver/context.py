"""Typed access to what the app holds for its views (instead of extensions["..."] lookups).

The keys are the app's extensions; build_app sets them once per app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import current_app

if TYPE_CHECKING:
    from .config import Settings
    from .db import Database
    from .keystore import KeyStore
    from .oauth import OAuth2Server
    from .ops.ratelimit import FailureThrottle
    from .resource_server import AccessTokenValidator
    from .store import Store

SETTINGS = "authserver.settings"
DATABASE = "authserver.db"
KEYSTORE = "authserver.keystore"
STORE = "authserver.store"
OAUTH_SERVER = "authserver.oauth2"
THROTTLE = "authserver.throttle"
VALIDATOR = "authserver.token_validator"
OWN_VALIDATOR = "authserver.own_token_validator"
ADMIN_VALIDATOR = "authserver.admin_token_validator"
METADATA = "authserver.metadata"
OPENAPI = "authserver.openapi"


def _get(key: str) -> Any:
    return current_app.extensions[key]


def settings() -> Settings:
    return cast("Settings", _get(SETTINGS))


def database() -> Database:
    return cast("Database", _get(DATABASE))


def keystore() -> KeyStore:
    return cast("KeyStore", _get(KEYSTORE))


def store() -> Store:
    return cast("Store", _get(STORE))


def oauth_server() -> OAuth2Server:
    return cast("OAuth2Server", _get(OAUTH_SERVER))


def throttle() -> FailureThrottle:
    return cast("FailureThrottle", _get(THROTTLE))


def validator() -> AccessTokenValidator:
    return cast("AccessTokenValidator", _get(VALIDATOR))


def admin_validator() -> AccessTokenValidator:
    """Tokens for the administration API (`<issuer>/admin`) only."""
    return cast("AccessTokenValidator", _get(ADMIN_VALIDATOR))


def own_validator() -> AccessTokenValidator:
    """The validator of the server's own endpoints: a token for any registered API."""
    return cast("AccessTokenValidator", _get(OWN_VALIDATOR))


def metadata() -> dict[str, Any]:
    return cast("dict[str, Any]", _get(METADATA))


def openapi() -> dict[str, Any]:
    return cast("dict[str, Any]", _get(OPENAPI))
