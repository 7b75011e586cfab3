"""Client metadata rules (RFC 7591 field names): which redirect URIs, keys, grants and auth
methods a client may be registered with. One code path for every way a client is made."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, cast
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from ..keystore import PRIVATE_JWK_MEMBERS
from ..policy import (
    PUBLIC_CLIENT_GRANT_TYPES,
    SUPPORTED_AUTH_METHODS,
    SUPPORTED_GRANT_TYPES,
    SUPPORTED_SCOPES,
    is_loopback,
)


class RegistrationError(ValueError):
    """Client metadata that cannot be registered; the message says which value and why."""


# RFC 3986 §2: the characters a URI may hold (unreserved, reserved, and % of pct-encoded).
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# A host an operator will read and a browser will go to: a DNS name, IPv4, or [IPv6].
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 200


def validate_name(name: str, what: str = "client name") -> str:
    """A name an operator will read in a listing: printable, no control characters (so no row
    can be spoofed), and bounded."""
    name = name.strip()
    if not name:
        raise RegistrationError(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RegistrationError(f"{what} must be at most {MAX_NAME_LENGTH} characters")
    if not name.isprintable():
        raise RegistrationError(f"{what} must not contain control characters (newline, ESC, ...)")
    return name


def validate_redirect_uri(uri: str) -> str:
    """Absolute, no fragment (RFC 6749 §3.1.2); https, or http only on loopback, or a private-use
    scheme for native apps (RFC 8252 §7.1, reverse-domain names)."""
    if len(uri) > MAX_URI_LENGTH or not _URI_CHARACTERS.fullmatch(uri):
        raise RegistrationError(
            f"redirect URI {uri!r} is not an RFC 3986 URI (spaces, quotes, <, >, control "
            f"characters are not allowed; at most {MAX_URI_LENGTH} characters)")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise RegistrationError(f"redirect URI {uri!r} has an invalid host or port") from None
    if not parts.scheme:
        raise RegistrationError(f"redirect URI {uri!r} must be absolute")
    if parts.netloc and not _valid_host(parts.hostname):
        raise RegistrationError(
            f"redirect URI {uri!r}: the host must be a DNS name or an IP address "
            "(no wildcards, ';' or other characters)")
    if parts.fragment or "#" in uri:
        raise RegistrationError(f"redirect URI {uri!r} must not have a fragment")
    if parts.scheme == "https":
        if not parts.hostname:
            raise RegistrationError(f"redirect URI {uri!r} has no host")
        return uri
    if parts.scheme == "http":
        if not is_loopback(parts.hostname):
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


def _valid_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST.fullmatch(host)) and len(host) <= 253


class UnconfiguredAlgorithm(RegistrationError):
    """An algorithm the server supports but does not sign with (AUTHSERVER_SIGNING_ALGS)."""


def validate_signing_alg(alg: str | None, configured: tuple[str, ...], what: str) -> str | None:
    """An algorithm a client or an API asks its tokens to be signed with: a configured one."""
    if alg is not None and alg not in configured:
        raise UnconfiguredAlgorithm(f"{what} {alg!r} is not one of AUTHSERVER_SIGNING_ALGS "
                                    f"({' '.join(configured)})")
    return alg


RSA_MIN_BITS = 2048  # RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used"


def key_problem(key: Key) -> str | None:
    """Why a client's public key cannot verify anything here, or None: RSA under 2048 bits
    (RFC 7518 §3.3), an OKP key other than Ed25519 (EdDSA here is Ed25519, RFC 8037)."""
    if key.key_type == "RSA" and key.public_key.key_size < RSA_MIN_BITS:  # type: ignore[union-attr]
        return f"RSA keys under {RSA_MIN_BITS} bits are refused (RFC 7518 3.3)"
    if key.key_type == "OKP" and key.get("crv") != "Ed25519":
        return "OKP keys must be Ed25519 (EdDSA)"
    return None


def validate_jwks(jwks: Any) -> dict[str, Any]:
    """A client's public keys for private_key_jwt and request objects: a JWK Set of RSA
    (2048 bits or more), EC or Ed25519 public keys."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise RegistrationError("the JWKS must be a JSON object whose 'keys' array holds a key")
    for key in jwks["keys"]:
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC", "OKP"):
            raise RegistrationError("every JWKS key must be an RSA, EC or OKP (Ed25519) public key")
        if any(member in key for member in PRIVATE_JWK_MEMBERS):
            raise RegistrationError("the JWKS holds a private key: register public keys only")
    try:
        imported = KeySet.import_key_set(cast(Any, jwks))
    except (JoseError, ValueError, TypeError) as exc:
        raise RegistrationError(f"the JWKS is not valid: {exc}") from None
    for key in imported.keys:
        problem = key_problem(key)
        if problem:
            raise RegistrationError(f"the JWKS key {key.kid or ''} is refused: {problem}")
    return jwks


def usable_keys(jwks: dict[str, Any] | None) -> KeySet:
    """The client's registered keys that may verify its JWTs (a client registered before a
    rule was enforced keeps its other keys, unused)."""
    keys = KeySet.import_key_set(cast(Any, jwks or {"keys": []}))
    return KeySet([key for key in keys.keys if key_problem(key) is None])


def validate_grants(grant_types: list[str], method: str) -> list[str]:
    grants = list(dict.fromkeys(grant_types))
    for grant in grants:
        if grant not in SUPPORTED_GRANT_TYPES:
            raise RegistrationError(f"unknown grant type {grant!r}")
    if method not in SUPPORTED_AUTH_METHODS:
        raise RegistrationError(f"unsupported token endpoint auth method {method!r}")
    if method == "none" and not set(grants) <= PUBLIC_CLIENT_GRANT_TYPES:
        raise RegistrationError(
            "a public client (auth method 'none') may only use authorization_code and "
            "refresh_token"
        )
    return grants


def validate_keys(method: str, jwks: dict[str, Any] | None) -> dict[str, Any] | None:
    """The client's public keys: needed for private_key_jwt, and by any client that signs
    request objects (RFC 9101)."""
    if method == "private_key_jwt" and jwks is None:
        raise RegistrationError("private_key_jwt needs the client's public keys (--jwks FILE)")
    return validate_jwks(jwks) if jwks is not None else None


def validate_backchannel_logout_uri(uri: str, public: bool = False) -> str:
    """Where the server POSTs logout tokens (Back-Channel Logout §2.2): an absolute https URI
    without a fragment, or http on loopback; never a private-use scheme (it is a server). A
    public client's is https only (§2.2: "it MAY use the http scheme, provided that the
    Client Type is confidential")."""
    checked = validate_redirect_uri(uri)
    scheme = urlsplit(checked).scheme
    if scheme not in ("https", "http"):
        raise RegistrationError(f"back-channel logout URI {uri!r} must be https (or loopback http)")
    if public and scheme != "https":
        raise RegistrationError(f"back-channel logout URI {uri!r} must be https for a public "
                                "client (http only for confidential clients)")
    return checked


def validate_scope(scope: str, known: frozenset[str] | tuple[str, ...] = SUPPORTED_SCOPES) -> str:
    """Every scope known: an OpenID scope or a registered API's (`known`)."""
    scopes = scope.split()
    for s in scopes:
        if s not in known:
            raise RegistrationError(f"unknown scope {s!r} (not an OpenID scope nor a scope of a "
                                    "registered API: see `authserver api list`)")
    return " ".join(dict.fromkeys(scopes))


def web_origin(uri: str) -> str | None:
    """The origin a browser sends for pages at `uri` (RFC 6454 §6.2: lower-case scheme and
    host, the port only when it is not the scheme's default), or None for a URI that has no
    web origin (a native app's private-use scheme)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, as the Origin header writes it
    shown_port = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{shown_port}"


_DEFAULT_PORTS = {"https": 443, "http": 80}


def validate_origin(origin: str) -> str:
    """An origin whose pages may call the token, userinfo and API endpoints (CORS): a scheme,
    a host and a port only, https or http on loopback, written as a browser's Origin header
    writes it. Never `*` nor `null` (a sandboxed page or a file is nobody's client)."""
    example = "like https://app.example.com (no path, query, user or wildcard)"
    if len(origin) > MAX_URI_LENGTH or not _URI_CHARACTERS.fullmatch(origin):
        raise RegistrationError(f"origin {origin!r} is not an origin {example}")
    trimmed = origin[:-1] if origin.endswith("/") else origin
    try:
        parts = urlsplit(trimmed)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise RegistrationError(f"origin {origin!r} has an invalid host or port") from None
    if (parts.scheme.lower() not in _DEFAULT_PORTS or parts.path or parts.query
            or parts.fragment or "?" in trimmed or "#" in trimmed or "@" in parts.netloc
            or not _valid_host(parts.hostname)):
        raise RegistrationError(f"origin {origin!r} must be a scheme, a host and a port, {example}")
    if parts.scheme.lower() == "http" and not is_loopback(parts.hostname):
        raise RegistrationError(f"origin {origin!r}: plain http is only allowed for loopback hosts")
    return web_origin(trimmed) or trimmed
