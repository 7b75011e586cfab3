"""Clients: register, change, rotate the secret of, delete and list OAuth clients."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from ..config import Settings
from ..models import Client
from ..store import Session
from ..store.client_metadata import RegistrationError
from ..store.clients import (
    Metadata,
    client_to_dict,
    current_metadata,
    find_client,
    register,
    rotate_client_secret,
)
from ..store.clients import update_client as replace_registration
from ..store.rows import every, remove, save
from .errors import BadInput, NotFound
from .pages import Page, page
from .registry import api_registry

# The registration's fields as the API names them (RFC 7591's names, as `client show --json`
# prints them) → Metadata's, with the JSON type each takes. The API parses with this table and
# the OpenAPI document is generated from it.
FIELDS: dict[str, tuple[str, str]] = {
    "client_name": ("name", "string"),
    "grant_types": ("grant_types", "string[]"),
    "scope": ("scope", "string"),
    "redirect_uris": ("redirect_uris", "string[]"),
    "post_logout_redirect_uris": ("post_logout_redirect_uris", "string[]"),
    "token_endpoint_auth_method": ("auth_method", "string"),
    "jwks": ("jwks", "object"),
    "backchannel_logout_uri": ("backchannel_logout_uri", "string"),
    "require_pushed_authorization_requests": ("require_par", "boolean"),
    "dpop_bound_access_tokens": ("dpop_bound", "boolean"),
    "profile": ("profile", "string"),
    "allowed_origins": ("allowed_origins", "string[]"),
    "resource_server": ("resource_server", "string"),
    "id_token_signed_response_alg": ("id_token_signed_response_alg", "string"),
    "require_mfa": ("require_mfa", "boolean"),
}
assert {f for f, _ in FIELDS.values()} == {f.name for f in fields(Metadata)}


def find(session: Session, client_id: str) -> Client:
    found = find_client(session, client_id) if "\x00" not in client_id else None
    if found is None:
        raise NotFound(f"no client with client_id {client_id!r}", field="client_id")
    return found


def list_clients(session: Session, *, limit: int | None = None,
                 cursor: str | None = None) -> Page:
    return page(session, Client, client_to_dict, limit=limit, cursor=cursor)


def every_client(session: Session) -> list[dict[str, Any]]:
    return [client_to_dict(c) for c in every(session, Client, "id")]


def show_client(session: Session, client_id: str) -> dict[str, Any]:
    return client_to_dict(find(session, client_id))


def create_client(session: Session, settings: Settings, metadata: Metadata) -> dict[str, Any]:
    """A new client with every registration check; its secret (when it has one) is in the
    answer, the only time it is shown."""
    registry = api_registry(session, settings)
    try:
        registered = register(session, metadata, registry.known_scopes,
                              known_audiences=registry.apis, signing_algs=settings.signing_algs)
    except RegistrationError as exc:
        raise BadInput(str(exc)) from None
    data = client_to_dict(registered.client)
    if registered.client_secret is not None:
        data["client_secret"] = registered.client_secret
    return data


def update_client(session: Session, settings: Settings, client_id: str,
                  changes: dict[str, Any]) -> dict[str, Any]:
    """Change what `changes` names (Metadata's fields), with the checks of a new client;
    nothing changes if any value is refused. A move to a secret auth method answers the new
    secret."""
    found = find(session, client_id)
    registry = api_registry(session, settings)
    try:
        secret = replace_registration(found, replace(current_metadata(found), **changes),
                                      registry.known_scopes, known_audiences=registry.apis,
                                      signing_algs=settings.signing_algs)
    except RegistrationError as exc:
        raise BadInput(str(exc)) from None
    save(session)
    data = client_to_dict(found)
    if secret is not None:
        data["client_secret"] = secret
    return data


def delete_client(session: Session, client_id: str) -> None:
    """Its access tokens stay valid until they expire."""
    remove(session, find(session, client_id))


def rotate_secret(session: Session, client_id: str) -> dict[str, Any]:
    """A new secret for a confidential client; the old one stops working at once."""
    found = find(session, client_id)
    try:
        secret = rotate_client_secret(found)
    except RegistrationError as exc:
        raise BadInput(str(exc)) from None
    return {"client_id": client_id, "client_secret": secret}
