"""Client registration rules: which metadata a client may have (RFC 7591 field names)."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from .hashing import hash_secret, new_secret
from .models import Client
from .oauth2 import (
    SUPPORTED_AUTH_METHODS,
    SUPPORTED_GRANT_TYPES,
    SUPPORTED_SCOPES,
    USER_ONLY_SCOPES,
)

DEFAULT_GRANT_TYPES = ("client_credentials",)
DEFAULT_AUTH_METHOD = "client_secret_basic"
# Grants a public client (no secret) may use: the others would hand tokens to anyone.
PUBLIC_CLIENT_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


class RegistrationError(ValueError):
    """Client metadata that cannot be registered; the message says which value and why."""


@dataclass
class RegisteredClient:
    client: Client
    client_secret: str | None  # shown once, never stored


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_redirect_uri(uri: str) -> str:
    """Absolute, no fragment (RFC 6749 §3.1.2); https, or http only on loopback, or a private-use
    scheme for native apps (RFC 8252 §7.1, reverse-domain names)."""
    parts = urlsplit(uri)
    if not parts.scheme:
        raise RegistrationError(f"redirect URI {uri!r} must be absolute")
    if parts.fragment or "#" in uri:
        raise RegistrationError(f"redirect URI {uri!r} must not have a fragment")
    if parts.scheme == "https":
        if not parts.hostname:
            raise RegistrationError(f"redirect URI {uri!r} has no host")
        return uri
    if parts.scheme == "http":
        if not parts.hostname or not _is_loopback(parts.hostname):
            raise RegistrationError(
                f"redirect URI {uri!r}: plain http is only allowed for loopback hosts"
            )
        return uri
    if "." in parts.scheme and parts.scheme not in ("javascript", "data", "file"):
        return uri
    raise RegistrationError(
        f"redirect URI {uri!r}: scheme must be https, http on loopback, or a reverse-domain "
        "private-use scheme"
    )


PRIVATE_JWK_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


def validate_jwks(jwks: Any) -> dict[str, Any]:
    """A client's public keys for private_key_jwt: a JWK Set of RSA or EC public keys."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise RegistrationError('the JWKS must be a JSON object {"keys": [...]} with a key')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise RegistrationError("every JWKS key must be an RSA or EC public key")
        if any(member in key for member in PRIVATE_JWK_MEMBERS):
            raise RegistrationError("the JWKS holds a private key: register public keys only")
    try:
        KeySet.import_key_set(cast(Any, jwks))
    except (JoseError, ValueError, TypeError) as exc:
        raise RegistrationError(f"the JWKS is not valid: {exc}") from None
    return jwks


def default_scope(grant_types: list[str]) -> str:
    """Everything we support, less the user-only scopes when no grant has a user."""
    has_user = any(g in ("password", "authorization_code") for g in grant_types)
    return " ".join(s for s in SUPPORTED_SCOPES if has_user or s not in USER_ONLY_SCOPES)


def register_client(
    session: Session,
    *,
    name: str,
    grant_types: list[str] | None = None,
    scope: str | None = None,
    redirect_uris: list[str] | None = None,
    auth_method: str | None = None,
    jwks: dict[str, Any] | None = None,
) -> RegisteredClient:
    name = name.strip()
    if not name:
        raise RegistrationError("client name must not be empty")
    grants = list(dict.fromkeys(grant_types or DEFAULT_GRANT_TYPES))
    for grant in grants:
        if grant not in SUPPORTED_GRANT_TYPES:
            raise RegistrationError(f"unknown grant type {grant!r}")
    method = auth_method or DEFAULT_AUTH_METHOD
    if method not in SUPPORTED_AUTH_METHODS:
        raise RegistrationError(f"unsupported token endpoint auth method {method!r}")
    if method == "none" and not set(grants) <= PUBLIC_CLIENT_GRANT_TYPES:
        raise RegistrationError(
            "a public client (auth method 'none') may only use authorization_code and "
            "refresh_token"
        )
    if method == "private_key_jwt":
        if jwks is None:
            raise RegistrationError("private_key_jwt needs the client's public keys (--jwks FILE)")
        jwks = validate_jwks(jwks)
    elif jwks is not None:
        raise RegistrationError("--jwks is only for the private_key_jwt auth method")
    uris = [validate_redirect_uri(u) for u in dict.fromkeys(redirect_uris or [])]
    if "authorization_code" in grants and not uris:
        raise RegistrationError("the authorization_code grant needs at least one --redirect-uri")
    scopes = (scope if scope is not None else default_scope(grants)).split()
    for s in scopes:
        if s not in SUPPORTED_SCOPES:
            raise RegistrationError(f"unknown scope {s!r}")

    # A secret only for the methods that use one.
    secret = new_secret(32) if method.startswith("client_secret") else None
    client = Client(
        # Hex, so that an id never starts with "-" and reads as an option on a command line.
        client_id=secrets.token_hex(16),
        client_secret_hash=hash_secret(secret) if secret else None,
        name=name,
        grant_types=grants,
        redirect_uris=uris,
        scope=" ".join(dict.fromkeys(scopes)),
        token_endpoint_auth_method=method,
        jwks=jwks,
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client=client, client_secret=secret)


def rotate_client_secret(client: Client) -> str:
    if not client.token_endpoint_auth_method.startswith("client_secret"):
        raise RegistrationError(
            f"a client with auth method {client.token_endpoint_auth_method!r} has no secret"
        )
    secret = new_secret(32)
    client.client_secret_hash = hash_secret(secret)
    return secret


def client_to_dict(client: Client) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "grant_types": list(client.grant_types),
        "scope": client.scope,
        "redirect_uris": list(client.redirect_uris),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "created_at": client.created_at,
    }
