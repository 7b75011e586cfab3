"""What this server supports and the scope rules every grant, registration and discovery share.

A leaf: it imports nothing of authserver, so the CLI, the store, the grants and discovery all
read one list instead of keeping copies that drift.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list

# The `groups` scope: the user's groups in the access token, the ID token and userinfo
# (RFC 9068 §2.2.3.1 names the claim); OpenID-like, of no API.
GROUPS_SCOPE = "groups"
# The OpenID scopes: they belong to no API and may ride along in any request.
OPENID_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", GROUPS_SCOPE)
# The built-in sample API's scopes (INTERFACE.md): the default resource (store/apis.py); the
# operator's own APIs add theirs at run time.
SAMPLE_API_SCOPES = {"notes:read": "Read your notes", "notes:write": "Create notes in your name"}
# The administration API (<issuer>/admin/v1), built in like the sample API (INTERFACE.md).
ADMIN_API_SCOPES = {"admin:read": "Read the server's configuration (administration API)",
                    "admin:write": "Change the server's configuration (administration API)"}
# What a new client gets by default, and what this server knows without any API registered.
SUPPORTED_SCOPES = (*OPENID_SCOPES, *SAMPLE_API_SCOPES)
# The standard claims each OpenID scope asks for (OIDC Core §5.4).
SCOPE_CLAIMS = {
    "profile": ("name", "family_name", "given_name", "middle_name", "nickname",
                "preferred_username", "picture", "website", "gender", "birthdate", "zoneinfo",
                "locale", "updated_at"),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628
SUPPORTED_GRANT_TYPES = ("authorization_code", "client_credentials", "password", "refresh_token",
                         DEVICE_CODE_GRANT)
SUPPORTED_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
# Scopes that only mean something when a user is behind the token.
USER_ONLY_SCOPES = frozenset({"openid", "offline_access", GROUPS_SCOPE})
# Grants that act for a user (and so may carry the user-only scopes).
USER_GRANT_TYPES = frozenset({"password", "authorization_code", DEVICE_CODE_GRANT})
# Grants a public client (no secret) may use: the others would hand tokens to anyone.
PUBLIC_CLIENT_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", DEVICE_CODE_GRANT})
DEFAULT_GRANT_TYPES = ("client_credentials",)
DEFAULT_AUTH_METHOD = "client_secret_basic"

# The algorithms we sign with (AUTHSERVER_SIGNING_ALGS picks among them; RFC 7518 §3, RFC 8037
# §3.1: EdDSA with Ed25519 keys), and those we accept from clients (assertions, request
# objects, DPoP proofs). Asymmetric only: a client's keys are public here, so an HMAC
# "signature" would prove nothing.
SIGNING_ALGS = ("RS256", "PS256", "ES256", "EdDSA")
DEFAULT_SIGNING_ALG = "RS256"
CLIENT_ASSERTION_ALGS = SIGNING_ALGS

# How the user authenticated (OIDC Core §2; INTERFACE.md "Two-factor sign-in"). amr values
# are RFC 8176's: "pwd" a password, "otp" a one-time code (TOTP or a recovery code), "swk" a
# passkey (+ "user" when the authenticator verified the user), "mfa" two factors. acr is the
# level those reach: "1" one factor (ISO/IEC 29115 level 1, as Keycloak's "1"), "2" two
# factors, "phr" a phishing-resistant passkey (OpenID EAP ACR Values 1.0); phr satisfies 2,
# 2 satisfies 1.
ACR_PASSWORD = "1"
ACR_TWO_FACTORS = "2"
ACR_PHISHING_RESISTANT = "phr"
ACR_RANK = {ACR_PASSWORD: 1, ACR_TWO_FACTORS: 2, ACR_PHISHING_RESISTANT: 3}
AMR_PASSWORD = ("pwd",)
AMR_OTP = "otp"
AMR_PASSKEY = "swk"
AMR_USER_VERIFIED = "user"
AMR_MFA = "mfa"
# A sign-in through another OpenID provider (federation). RFC 8176 registers no value for it
# (its values name authentication methods, and we did not see which one the provider used):
# "fed" is the value Microsoft Entra ID gives a federated sign-in. acr stays "1": one sign-in.
AMR_FEDERATED = ("fed",)


def amr_values(stored: str | None) -> list[str]:
    """The amr of a sign-in as stored on its session, code and grant (NULL: a password)."""
    return stored.split() if stored else list(AMR_PASSWORD)


def with_second_factor(first: str | None, factor: tuple[str, ...]) -> str:
    """The amr after a second factor (`factor`, e.g. ("otp",)) on top of `first`."""
    values = [*amr_values(first), *factor]
    return " ".join(dict.fromkeys([*values, AMR_MFA]))


def acr_level(stored_amr: str | None) -> str:
    """The level a sign-in reached: a passkey that verified the user, or any passkey as one of
    two factors, is phr; two factors are 2; anything else is 1."""
    amr = set(amr_values(stored_amr))
    if AMR_PASSKEY in amr and (AMR_USER_VERIFIED in amr or AMR_MFA in amr):
        return ACR_PHISHING_RESISTANT
    if AMR_MFA in amr:
        return ACR_TWO_FACTORS
    return ACR_PASSWORD


def satisfies(level: str, wanted: str) -> bool:
    return ACR_RANK.get(level, 0) >= ACR_RANK.get(wanted, 99)


def acr_answer(stored_amr: str | None, essential: list[str] | None = None) -> str:
    """The ID token's acr (INTERFACE.md "Precisions (turn 3)"): the level the sign-in
    satisfied, or, when an essential acr was asked for, the highest of its values it
    satisfies (one of the requested values, OIDC Core §5.5.1.1)."""
    level = acr_level(stored_amr)
    met = [value for value in essential or () if satisfies(level, value)]
    return max(met, key=lambda value: ACR_RANK[value]) if met else level


# Strongest first (discovery's acr_values_supported).
ACR_VALUES_SUPPORTED = (ACR_PHISHING_RESISTANT, ACR_TWO_FACTORS, ACR_PASSWORD)

# The sample notes API (INTERFACE.md): the longest note, and the most notes one page lists.
MAX_NOTE_LENGTH = 2000
NOTES_PAGE_SIZE = 100
# The sample API's role that may read every user's notes (GET /api/admin/notes).
ADMIN_ROLE = "admin"


class ScopedClient(Protocol):
    scope: str


def check_scope(requested: str | None, client: ScopedClient, *, has_user: bool,
                known: frozenset[str] | tuple[str, ...] = SUPPORTED_SCOPES,
                ignore_unknown: bool = False) -> None:
    """Unknown scopes, scopes the client may not have, and user scopes without a user are refused
    by name rather than silently dropped (RFC 6749 §5.2 invalid_scope). `known` is every scope
    the server has now (the OpenID scopes and every API's). An OpenID
    authentication request ignores the scopes it does not know instead (`ignore_unknown`,
    OIDC Core §3.1.2.1: "Scope values used that are not understood by an implementation
    SHOULD be ignored")."""
    allowed = scope_to_list(client.scope) or []
    for scope in scope_to_list(requested) or []:
        if scope not in known:
            if ignore_unknown:
                continue
            raise InvalidScopeError(f"unknown scope '{shown(scope)}'")
        if scope not in allowed:
            raise InvalidScopeError(f"scope '{scope}' is not allowed for this client")
        if not has_user and scope in USER_ONLY_SCOPES:
            raise InvalidScopeError(f"scope '{scope}' needs a user; this grant has none")


def default_scope(grant_types: list[str], among: tuple[str, ...] | list[str] = SUPPORTED_SCOPES
                  ) -> str:
    """A new client's scope: everything `among` (all we support, unless said otherwise), less
    the user-only scopes when no grant has a user."""
    has_user = any(g in USER_GRANT_TYPES for g in grant_types)
    return " ".join(s for s in among if has_user or s not in USER_ONLY_SCOPES)


def machine_scope(client_scope: str) -> str:
    """The scope of a token without a user when none is asked for: what the client may have,
    less the scopes that only mean something for a user."""
    return " ".join(s for s in client_scope.split() if s not in USER_ONLY_SCOPES)


def is_loopback(host: str | None) -> bool:
    """localhost or any loopback address (127.0.0.0/8, ::1): where plain http stays on the host
    (RFC 8252 §7.3), for issuers and redirect URIs alike."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def shown(value: object, limit: int = 64) -> str:
    """A client's value as an error description may show it: RFC 6749 §5.2 allows only
    %x20-21 / %x23-5B / %x5D-7E there, so anything else is percent-encoded, and it is cut short.
    (Authlib refuses to build an error whose description breaks the rule.)"""
    text = str(value)[:limit]
    return "".join(
        c if c in _DESCRIPTION_SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8"))
        for c in text
    )


_DESCRIPTION_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}
