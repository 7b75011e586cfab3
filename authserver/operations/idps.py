"""Identity providers: the other OpenID providers people may sign in with, added (their
discovery read), listed and removed (`authserver idp ...`, `/admin/v1/idps`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from ..models import IdentityProvider
from ..store import Session
from ..store.idps import (
    IdpError,
    check_idp,
    find_idp,
    idp_to_dict,
    list_idps,
    slug_of,
    stored_secret,
)
from ..store.idps import create_idp as store_create_idp
from ..store.rows import remove, save
from .errors import BadInput, Duplicate, NotFound
from .pages import Page, page

DEFAULT_SCOPE = "openid email profile"
# The API's body, with the JSON type of each field (the OpenAPI document is generated from it).
FIELDS = {"name": "string", "issuer": "string", "client_id": "string",
          "client_secret": "string", "slug": "string", "scope": "string",
          "link_by_email": "boolean", "create_users": "boolean"}
REQUIRED = ["name", "issuer", "client_id", "client_secret"]
# What an update may change (PATCH /admin/v1/idps/{slug}, `idp update`). Not the slug (it is in
# the redirect_uri registered at the provider) nor the issuer (its discovery was read and
# stored when the provider was added): for either, remove the provider and add it again.
CHANGEABLE = {field: FIELDS[field] for field in
              ("name", "scope", "link_by_email", "create_users", "client_secret")}
# The provider's discovery document for an issuer, or DiscoveryFailed. The front ends pass the
# protocol's reader (oauth/upstream.py), which the operations may not import.
Discover = Callable[[str], dict[str, Any]]


class DiscoveryFailed(BadInput):
    """The provider's discovery could not be read, or names another issuer (CLI: exit 1)."""


def find(session: Session, slug: str) -> IdentityProvider:
    found = find_idp(session, slug) if "\x00" not in slug else None
    if found is None:
        raise NotFound(f"no provider with the slug {slug!r}", field="slug")
    return found


def check_issuer(issuer: str) -> None:
    try:
        parts = urlsplit(issuer)
    except ValueError:  # a malformed IPv6 host, say
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query \
            or parts.fragment or not issuer.isprintable():
        raise BadInput(f"issuer must be an http(s) URL without query, got {issuer!r}",
                       field="issuer")


def list_providers(session: Session, settings: Settings, *, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    return page(session, IdentityProvider, lambda row: idp_to_dict(row, settings.issuer),
                limit=limit, cursor=cursor)


def every_provider(session: Session, settings: Settings) -> list[dict[str, Any]]:
    return [idp_to_dict(row, settings.issuer) for row in list_idps(session)]


def show_provider(session: Session, settings: Settings, slug: str) -> dict[str, Any]:
    return idp_to_dict(find(session, slug), settings.issuer)


@dataclass(frozen=True)
class NewProvider:
    """A provider checked and its discovery read: what add_provider writes."""

    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scope: str
    link_by_email: bool
    create_users: bool
    discovery: dict[str, Any]


def prepare_provider(session: Session, discover: Discover, *, name: str, issuer: str,
                     client_id: str, client_secret: str, slug: str | None = None,
                     scope: str = DEFAULT_SCOPE, link_by_email: bool = False,
                     create_users: bool = True) -> NewProvider:
    """Every rule of a new provider, then its discovery read (the only network call); writes
    nothing, so no write lock is held while the provider answers."""
    check_issuer(issuer)
    slug = slug if slug is not None else slug_of(name)
    try:
        check_idp(slug=slug, name=name, scope=scope)
    except IdpError as exc:
        raise BadInput(str(exc), field=exc.field) from None
    if not client_id or len(client_id) > 255 or not client_id.isprintable():
        raise BadInput("client_id must be 1-255 printable characters", field="client_id")
    if not client_secret or not client_secret.isprintable():
        raise BadInput("client_secret must be printable characters", field="client_secret")
    _check_new(session, slug)
    return NewProvider(slug=slug, name=name, issuer=issuer, client_id=client_id,
                       client_secret=client_secret, scope=scope, link_by_email=link_by_email,
                       create_users=create_users, discovery=discover(issuer))


def add_provider(session: Session, settings: Settings, new: NewProvider) -> dict[str, Any]:
    """The prepared provider, written; the answer has the redirect_uri to register at the
    provider, never the secret."""
    _check_new(session, new.slug)  # (added meanwhile?)
    try:
        created = store_create_idp(session, **asdict(new), passphrase=settings.keys_passphrase)
    except IdpError as exc:  # (its checks are the ones above)
        raise BadInput(str(exc), field=exc.field) from None
    return idp_to_dict(created, settings.issuer)


def update_provider(session: Session, settings: Settings, slug: str,
                    changes: dict[str, Any]) -> dict[str, Any]:
    """Change what is given (CHANGEABLE), with the checks of a new provider; nothing is
    written unless every change passes."""
    idp = find(session, slug)
    for field in changes:
        if field not in CHANGEABLE:
            raise BadInput(f"{field} cannot be changed (remove the provider and add it again)"
                           if field in FIELDS else f"unknown field {field!r}", field=str(field))
    name, scope = changes.get("name", idp.name), changes.get("scope", idp.scope)
    try:
        check_idp(slug=idp.slug, name=name, scope=scope)
    except IdpError as exc:
        raise BadInput(str(exc), field=exc.field) from None
    secret = changes.get("client_secret")
    if secret is not None and (not secret or not secret.isprintable()):
        raise BadInput("client_secret must be printable characters", field="client_secret")
    idp.name, idp.scope = name, scope
    idp.link_by_email = changes.get("link_by_email", idp.link_by_email)
    idp.create_users = changes.get("create_users", idp.create_users)
    if secret is not None:
        idp.client_secret = stored_secret(idp.slug, secret, settings.keys_passphrase)
    save(session)
    return idp_to_dict(idp, settings.issuer)


def _check_new(session: Session, slug: str) -> None:
    if find_idp(session, slug) is not None:
        raise Duplicate(f"a provider with the slug {slug!r} already exists", field="slug")


def delete_provider(session: Session, slug: str) -> None:
    """The provider and every identity linked through it (the users stay)."""
    remove(session, find(session, slug))
