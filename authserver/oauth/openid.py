"""OpenID Connect Core: ID tokens on token responses, the identity claims a scope allows, and the
code flow's OpenID request checks (nonce)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from authlib.oidc.core.grants.util import is_openid_scope
from joserfc.jwk import KeySet

from ..config import Settings
from ..keystore import KeyStore
from ..models import AuthorizationCode, Client, RefreshTokenFamily, User
from ..policy import SCOPE_CLAIMS, acr_answer, amr_values
from ..store import Store
from ..store.refresh_claim import ClaimedFamily
from ..store.user_claims import claims_of
from .signing import alg_for


def user_claims(user: User, scope: str, requested: list[str] | None = None) -> UserInfo:
    """The standard claims the granted scope allows (OIDC Core §5.4), and those asked for by
    name (`requested`, §5.5, already kept to what the client may have), that the user has."""
    has = claims_of(user)
    names = [name for granted in (scope or "").split() for name in SCOPE_CLAIMS.get(granted, ())]
    info = UserInfo(sub=user.sub)
    for name in [*names, *(requested or [])]:
        if name in has:
            info[name] = has[name]
    return info


def grant_of_request(
    request: OAuth2Request,
) -> AuthorizationCode | RefreshTokenFamily | ClaimedFamily | None:
    """Where a token request's grant keeps its requested claims and sid: the code being
    exchanged, or the refreshed token's family (the password grant has neither)."""
    code = getattr(request, "authorization_code", None)
    if code is not None:
        return code  # type: ignore[no-any-return]
    refresh_token = getattr(request, "refresh_token", None)
    return refresh_token.family if refresh_token is not None else None


class IDTokenIssuer(OpenIDToken):
    """Adds an OIDC ID token to token responses whose scope includes `openid` and that have a user.

    Registered on the password, refresh_token and authorization_code grants.
    """

    def __init__(self, settings: Settings, keystore: KeyStore, store: Store) -> None:
        self.settings = settings
        self.keystore = keystore
        self.store = store

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return self.keystore.signing_keyset(self.get_client_algorithm(client))

    def get_client_algorithm(self, client: Client) -> str:
        """The client's id_token_signed_response_alg, else the server's default (signing.py)."""
        return alg_for(client, client.id_token_signed_response_alg, self.settings.signing_algs)

    def get_encode_header(self, client: Client) -> dict[str, str]:
        # No kid here: joserfc sets it from the one key of the signing set (see access_tokens).
        return {"alg": self.get_client_algorithm(client)}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {
            "iss": self.settings.issuer,
            "aud": client.get_client_id(),
            "exp": self.store.now() + self.settings.id_token_ttl,
        }

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        claims = super().get_compatible_claims(request)
        # The password grant authenticates by password; a refresh keeps how its grant's user
        # signed in (the code flow's come from the code: AuthorizationCode.get_amr).
        amr: str | None = None
        essential: list[str] | None = None
        # A refreshed ID token keeps the time the user really authenticated (OIDC Core §12.2).
        refresh_token = getattr(request, "refresh_token", None)
        if refresh_token is not None:
            claims["auth_time"] = refresh_token.family.auth_time
            amr = refresh_token.family.amr
            essential = (refresh_token.family.claims or {}).get("essential_acr")
        elif getattr(request, "grant_auth_time", None):  # a device approval (device.py)
            claims["auth_time"] = request.grant_auth_time
            amr = getattr(request, "grant_amr", None)
        claims["acr"], claims["amr"] = acr_answer(amr, essential), amr_values(amr)
        groups = getattr(request, "user_groups", None)
        if groups is not None:  # the `groups` scope was granted (grants/linked.py)
            claims["groups"] = list(groups)
        grant = grant_of_request(request)
        if grant is not None:
            if grant.sid:
                claims["sid"] = grant.sid  # Back-Channel Logout §2.1
            requested = (grant.claims or {}).get("id_token")
            if requested:
                claims.update(user_claims(request.user, "", requested))
        return claims

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_claims(user, scope)

    def process_token(self, grant: Any, response: Any) -> Any:
        if grant.request.user is None or not is_openid_scope(response[1].get("scope")):
            return response[1]
        return super().process_token(grant, response)


class OpenIDCodeIssuer(IDTokenIssuer, OpenIDCode):
    """The code flow's ID tokens (nonce and auth_time from the code) plus Authlib's OpenID
    request checks (nonce replay, prompt)."""

    # OpenIDCode's only state (its __init__ sets nothing else): the nonce is optional in the
    # code flow (OIDC Core §3.1.2.1).
    require_nonce = False

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.store.codes.nonce_seen(request.payload.client_id, nonce)
