"""Dynamic client registration (RFC 7591) and its management (RFC 7592) on Authlib's endpoints,
with the checks of `authserver client create` (store/clients.py `validated`, one code path).

AUTHSERVER_REGISTRATION: `off` (no endpoint), `token` (an initial access token from
`authserver registration-token create` is required, and spent: one registration each), or
`open`. A client that registers itself may ask only for AUTHSERVER_REGISTRATION_SCOPES (the
OpenID scopes by default), and gets a registration access token (hashed here, rotated on every
update) to read, update and delete its registration at its registration_client_uri.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7591.errors import InvalidRedirectURIError, UnapprovedSoftwareStatementError
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint

from .. import events
from ..config import Settings
from ..models import Client
from ..policy import (
    SUPPORTED_AUTH_METHODS,
    SUPPORTED_GRANT_TYPES,
    default_scope,
    shown,
)
from ..store import Store
from ..store.client_metadata import RegistrationError, validate_jwks
from ..store.clients import Metadata, find_client, register_client, update_client
from ..store.registration import Registrations

REGISTRATION_PATH = "/oauth/register"


class _Bearer:
    """The credential of a registration request: what Authlib's endpoints pass around."""

    def __init__(self, raw: str | None) -> None:
        self.raw = raw

    def check_client(self, client: Client) -> bool:
        return self.raw is not None and Registrations.access_token_matches(client, self.raw)


def _bearer(request: Any) -> str | None:
    """The token of an `Authorization: Bearer` header, if there is one."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None


class _Shared:
    """What both endpoints share: the server's limits and the metadata they take."""

    settings: Settings
    store: Store

    def get_server_metadata(self) -> dict[str, Any]:
        return {
            "scopes_supported": self.allowed_scopes(),
            "grant_types_supported": list(SUPPORTED_GRANT_TYPES),
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": list(SUPPORTED_AUTH_METHODS),
        }

    def allowed_scopes(self) -> list[str]:
        return scope_to_list(self.settings.registration_scopes) or []

    def default_scope(self, grants: list[str]) -> str:
        """What a client that registers itself gets when it asks for no scope."""
        return default_scope(grants, among=self.allowed_scopes())

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        if "software_statement" in request.payload.data:
            # Authlib would drop it unread: say that it is not accepted instead.
            raise UnapprovedSoftwareStatementError(
                "software statements are not accepted here; register without one")
        if "jwks" in request.payload.data:
            # Our rules for a client's keys first (a JWK Set of public keys we accept): Authlib
            # hands anything else to joserfc, whose KeyError (no "keys") it does not catch.
            try:
                validate_jwks(request.payload.data["jwks"])
            except RegistrationError as exc:
                raise _metadata_error(exc) from None
        try:
            return super().extract_client_metadata(request)  # type: ignore[misc, no-any-return]
        except InvalidClientMetadataError as exc:
            # RFC 7591 §3.2.2 has its own error for the redirect URIs.
            if "redirect_uris" in (exc.description or ""):
                raise InvalidRedirectURIError(exc.description) from None
            raise

    def metadata(self, request: Any, client_metadata: dict[str, Any]) -> Metadata:
        data = request.payload.data
        alg = data.get("id_token_signed_response_alg")
        if alg is not None and alg not in self.settings.signing_algs:
            # OIDC Dynamic Client Registration §2: only what we sign with.
            raise InvalidClientMetadataError(
                "id_token_signed_response_alg must be one of "
                + ", ".join(self.settings.signing_algs))
        if "jwks_uri" in client_metadata:
            raise InvalidClientMetadataError("jwks_uri is not supported: send the keys as jwks")
        scope = client_metadata.get("scope")
        if scope is not None:
            outside = [s for s in scope.split() if s not in self.allowed_scopes()]
            if outside:
                raise InvalidClientMetadataError(
                    f"scope '{outside[0]}' is not open to clients that register themselves")
        for name in ("post_logout_redirect_uris",):
            value = data.get(name)
            if value is not None and (not isinstance(value, list)
                                      or not all(isinstance(u, str) for u in value)):
                raise InvalidClientMetadataError(f"{name} must be an array of URIs")
        backchannel = data.get("backchannel_logout_uri")
        if backchannel is not None and not isinstance(backchannel, str):
            raise InvalidClientMetadataError("backchannel_logout_uri must be a URI")
        return Metadata(
            name=client_metadata.get("client_name") or "Unnamed client",
            grant_types=client_metadata.get("grant_types") or ["authorization_code"],
            scope=scope,
            redirect_uris=client_metadata.get("redirect_uris"),
            post_logout_redirect_uris=data.get("post_logout_redirect_uris"),
            auth_method=client_metadata.get("token_endpoint_auth_method"),
            jwks=client_metadata.get("jwks"),
            backchannel_logout_uri=backchannel,
            id_token_signed_response_alg=alg,
        )

    def known_scopes(self) -> frozenset[str]:
        return self.store.apis.registry().known_scopes

    def body(self, client: Client, secret: str | None, access_token: str) -> dict[str, Any]:
        """RFC 7591 §3.2.1 / RFC 7592 §3: the registration as it is, and how to manage it."""
        body: dict[str, Any] = {
            "client_id": client.client_id,
            "client_id_issued_at": client.created_at,
            "client_name": client.name,
            "grant_types": list(client.grant_types),
            "response_types": ["code"] if "authorization_code" in client.grant_types else [],
            "redirect_uris": list(client.redirect_uris),
            "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "scope": client.scope,
            "id_token_signed_response_alg":
                client.id_token_signed_response_alg or self.settings.signing_algs[0],
            "registration_access_token": access_token,
            "registration_client_uri":
                f"{self.settings.issuer}{REGISTRATION_PATH}/{client.client_id}",
        }
        if client.jwks:
            body["jwks"] = client.jwks
        if client.backchannel_logout_uri:
            body["backchannel_logout_uri"] = client.backchannel_logout_uri
        if secret is not None:
            body.update(client_secret=secret, client_secret_expires_at=0)
        return body


def _metadata_error(exc: RegistrationError) -> InvalidClientMetadataError:
    # The message may quote the client's value: only RFC 6749 §5.2's characters may show.
    message = shown(str(exc), limit=300)
    if "redirect URI" in message or "--redirect-uri" in message:
        return InvalidRedirectURIError(message.replace("--redirect-uri", "redirect_uris"))
    return InvalidClientMetadataError(message.replace("--jwks FILE", "jwks"))


class Registration(_Shared, ClientRegistrationEndpoint):
    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.store = store

    def authenticate_token(self, request: Any) -> _Bearer:
        if self.settings.registration == "open":
            return _Bearer(None)
        raw = _bearer(request)
        if raw is None or not self.store.registrations.use_initial_token(raw):
            # RFC 7591 §3: the initial access token is an RFC 6750 bearer token.
            events.record("client.registration_refused", "invalid_token")
            raise InvalidTokenError("a valid initial access token is required")
        return _Bearer(raw)

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        return {}  # the store makes the id and secret (save_client), as `client create` does

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any],
                    request: Any) -> Client:
        metadata = self.metadata(request, client_metadata)
        try:
            registered = register_client(
                self.store.begin_write(), name=metadata.name, grant_types=metadata.grant_types,
                scope=metadata.scope, redirect_uris=metadata.redirect_uris,
                post_logout_redirect_uris=metadata.post_logout_redirect_uris,
                auth_method=metadata.auth_method, jwks=metadata.jwks,
                backchannel_logout_uri=metadata.backchannel_logout_uri,
                known_scopes=self.known_scopes(), default_scope_for=self.default_scope,
                id_token_signed_response_alg=metadata.id_token_signed_response_alg,
                signing_algs=self.settings.signing_algs)
        except RegistrationError as exc:
            raise _metadata_error(exc) from None
        request.registered = registered
        events.record("client.registered", client_id=registered.client.client_id,
                      scope=registered.client.scope, grant_types=registered.client.grant_types)
        return registered.client

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        token = self.store.registrations.issue_access_token(client)
        return self.body(client, request.registered.client_secret, token)


class Configuration(_Shared, ClientConfigurationEndpoint):
    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.store = store

    def authenticate_token(self, request: Any) -> _Bearer:
        raw = _bearer(request)
        if raw is None:
            raise InvalidTokenError("the registration access token is required")
        return _Bearer(raw)

    def authenticate_client(self, request: Any) -> Client | None:
        client_id = request.uri.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        client = find_client(self.store.session(), client_id)
        if client is None or not _Bearer(request.credential.raw).check_client(client):
            # RFC 7592 §2: "If the registration access token used to make this request is not
            # valid, the server MUST respond with an error as described in [RFC6750]": 401
            # with a Bearer challenge, the same for no such client (nothing said about which
            # clients exist).
            raise InvalidTokenError("the registration access token is not valid for this client")
        return client

    def revoke_access_token(self, request: Any, token: Any) -> None:
        pass  # a token that matches no client is nobody's to revoke

    def check_permission(self, client: Client, request: Any) -> bool:
        return True

    def create_read_client_response(self, client: Client, request: Any) -> Any:
        token = getattr(request, "new_access_token", None) or request.credential.raw
        return 200, self.body(client, getattr(request, "new_secret", None), token), [
            ("Content-Type", "application/json")]

    def update_client(self, client: Client, client_metadata: dict[str, Any],
                      request: Any) -> Client:
        # What only the operator sets (`client update`), RFC 7591 has no name for: kept.
        metadata = replace(self.metadata(request, client_metadata),
                           allowed_origins=list(client.allowed_origins or []),
                           resource_server=client.resource_server)
        self.store.begin_write()
        try:
            request.new_secret = update_client(client, metadata, self.known_scopes(),
                                               self.default_scope,
                                               self.store.apis.registry().apis,
                                               self.settings.signing_algs)
        except RegistrationError as exc:
            raise _metadata_error(exc) from None
        request.new_access_token = self.store.registrations.issue_access_token(client)
        events.record("client.registration_updated", client_id=client.client_id,
                      scope=client.scope)
        return client

    def delete_client(self, client: Client, request: Any) -> None:
        self.store.begin_write().delete(client)
        events.record("client.registration_deleted", client_id=client.client_id)

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        return {}  # in create_read_client_response's body already
