"""Registered clients: the token endpoint's lookup (cached per worker) and registration."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..hashing import hash_secret, new_secret
from ..models import Client
from ..policy import (
    CONFIDENTIAL_AUTH_METHODS,
    DEFAULT_AUTH_METHOD,
    DEFAULT_GRANT_TYPES,
    DEFAULT_SIGNING_ALG,
    SUPPORTED_SCOPES,
    default_scope,
)
from ..profiles import ProfileError, profile_of
from .client_cache import ClientCache
from .client_metadata import (
    RegistrationError,
    validate_backchannel_logout_uri,
    validate_grants,
    validate_keys,
    validate_name,
    validate_origin,
    validate_redirect_uri,
    validate_scope,
    validate_signing_alg,
)

if TYPE_CHECKING:
    from . import Store

# Core, not ORM: this runs on every token request, and the ORM's identity map and loading cost
# more than the query itself (bench/RESULTS.md). The Client comes back transient: nothing
# here writes it.
_CLIENT_BY_ID = select(*Client.__table__.columns).where(
    Client.__table__.c.client_id == bindparam("client_id")
)


class Clients:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache = ClientCache(store.database.engine, self.load, store.sees_version)

    def get(self, client_id: str) -> Client | None:
        """The client, from the per-worker cache while no client has changed since."""
        return self.cache.get(client_id)

    def get_again(self, client_id: str) -> Client | None:
        """The client, trusting the clients version this request has read already, if it has
        (CORS looks at the client the endpoint has just authenticated; an authorization
        request looks at its client three times): no query when it is cached. The first look
        in a request reads the version (the request's end forgets it)."""
        return self.cache.get(client_id, reuse_version=True)

    def load(self, client_id: str) -> Client | None:
        if "\x00" in client_id:  # from a decoded Basic header: PostgreSQL text cannot hold it
            return None
        connection = self.store.session().connection()
        row = connection.execute(_CLIENT_BY_ID, {"client_id": client_id}).first()
        return Client(**row._mapping) if row is not None else None


@dataclass
class RegisteredClient:
    client: Client
    client_secret: str | None  # shown once, never stored


def find_client(session: Session, client_id: str) -> Client | None:
    return session.scalar(select(Client).where(Client.client_id == client_id))


@dataclass(frozen=True)
class Metadata:
    """What a client registers, as given (the CLI's options, or RFC 7591 JSON)."""

    name: str
    grant_types: list[str] | None = None
    scope: str | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    auth_method: str | None = None
    jwks: dict[str, Any] | None = None
    backchannel_logout_uri: str | None = None
    require_par: bool = False
    dpop_bound: bool = False
    profile: str | None = None
    allowed_origins: list[str] | None = None
    resource_server: str | None = None  # an API's audience
    id_token_signed_response_alg: str | None = None
    require_mfa: bool = False  # its sign-ins need two factors (acr 2)


def current_metadata(client: Client) -> Metadata:
    """What a client is registered with now, to be changed (`client update`)."""
    return Metadata(
        name=client.name, grant_types=list(client.grant_types), scope=client.scope,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris or []),
        auth_method=client.token_endpoint_auth_method, jwks=client.jwks,
        backchannel_logout_uri=client.backchannel_logout_uri,
        require_par=bool(client.require_par), dpop_bound=bool(client.dpop_bound),
        profile=client.profile, allowed_origins=list(client.allowed_origins or []),
        resource_server=client.resource_server,
        id_token_signed_response_alg=client.id_token_signed_response_alg,
        require_mfa=bool(client.require_mfa))


def validated(metadata: Metadata, known_scopes: frozenset[str] | tuple[str, ...] | None = None,
              default_scope_for: Any = default_scope,
              known_audiences: Collection[str] = (),
              signing_algs: tuple[str, ...] = (DEFAULT_SIGNING_ALG,)) -> dict[str, Any]:
    """Every check of a registration, one code path for `client create`, `client update` and
    RFC 7591/7592 (`default_scope_for(grants)`: the scope when none is asked for;
    `known_audiences`: the registered APIs; `signing_algs`: AUTHSERVER_SIGNING_ALGS). Returns
    the columns."""
    name = validate_name(metadata.name)
    method = metadata.auth_method or DEFAULT_AUTH_METHOD
    resource_server = metadata.resource_server
    if resource_server is not None and resource_server not in known_audiences:
        raise RegistrationError(f"unknown API audience {resource_server!r} for --resource-server "
                                "(see `authserver api list`)")
    # A resource server only introspects: it needs no grant unless it asks for one.
    default_grants = [] if resource_server is not None else DEFAULT_GRANT_TYPES
    grant_types = metadata.grant_types if metadata.grant_types is not None else default_grants
    grants = validate_grants(list(grant_types or default_grants), method)
    if resource_server is not None and method not in CONFIDENTIAL_AUTH_METHODS:
        raise RegistrationError("a resource server authenticates at introspection: it needs a "
                                "confidential --auth-method, not 'none'")
    jwks = validate_keys(method, metadata.jwks)
    uris = [validate_redirect_uri(u) for u in dict.fromkeys(metadata.redirect_uris or [])]
    logout_uris = [validate_redirect_uri(u)
                   for u in dict.fromkeys(metadata.post_logout_redirect_uris or [])]
    backchannel_logout_uri = metadata.backchannel_logout_uri
    if backchannel_logout_uri is not None:
        if "authorization_code" not in grants:
            raise RegistrationError("back-channel logout needs the authorization_code grant "
                                    "(the sign-in it logs out from)")
        backchannel_logout_uri = validate_backchannel_logout_uri(backchannel_logout_uri,
                                                                 public=method == "none")
    if "authorization_code" in grants and not uris:
        raise RegistrationError("the authorization_code grant needs at least one --redirect-uri")
    origins = list(dict.fromkeys(validate_origin(o) for o in metadata.allowed_origins or []))
    scope = validate_scope(
        metadata.scope if metadata.scope is not None else
        default_scope_for(grants) if grants else "",
        known_scopes if known_scopes is not None else SUPPORTED_SCOPES)
    id_token_alg = validate_signing_alg(metadata.id_token_signed_response_alg, signing_algs,
                                        "id_token_signed_response_alg")
    try:
        profile = profile_of(metadata.profile)
        profile.check_registration(method=method, grants=grants, has_keys=jwks is not None,
                                   configured=signing_algs)
    except ProfileError as exc:
        raise RegistrationError(str(exc)) from None
    return {"name": name, "grant_types": grants, "redirect_uris": uris,
            "post_logout_redirect_uris": logout_uris, "scope": scope,
            "token_endpoint_auth_method": method, "jwks": jwks,
            "backchannel_logout_uri": backchannel_logout_uri,
            "require_par": metadata.require_par or profile.forces_par,
            "dpop_bound": metadata.dpop_bound or profile.forces_dpop, "profile": metadata.profile,
            "allowed_origins": origins, "resource_server": resource_server,
            "id_token_signed_response_alg": id_token_alg,
            "require_mfa": bool(metadata.require_mfa)}


def register_client(
    session: Session,
    *,
    name: str,
    grant_types: list[str] | None = None,
    scope: str | None = None,
    redirect_uris: list[str] | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    auth_method: str | None = None,
    jwks: dict[str, Any] | None = None,
    backchannel_logout_uri: str | None = None,
    known_scopes: frozenset[str] | None = None,
    default_scope_for: Any = default_scope,
    require_par: bool = False,
    dpop_bound: bool = False,
    profile: str | None = None,
    allowed_origins: list[str] | None = None,
    resource_server: str | None = None,
    known_audiences: Collection[str] = (),
    id_token_signed_response_alg: str | None = None,
    signing_algs: tuple[str, ...] = (DEFAULT_SIGNING_ALG,),
) -> RegisteredClient:
    """`known_scopes`: every scope there is now (the registry's), else the built-in ones."""
    metadata = Metadata(name, grant_types, scope, redirect_uris, post_logout_redirect_uris,
                        auth_method, jwks, backchannel_logout_uri, require_par, dpop_bound,
                        profile, allowed_origins, resource_server, id_token_signed_response_alg)
    return register(session, metadata, known_scopes, default_scope_for, known_audiences,
                    signing_algs)


def register(session: Session, metadata: Metadata, known_scopes: frozenset[str] | None = None,
             default_scope_for: Any = default_scope, known_audiences: Collection[str] = (),
             signing_algs: tuple[str, ...] = (DEFAULT_SIGNING_ALG,)) -> RegisteredClient:
    """A new client, with every check of `validated`; its secret is returned once."""
    columns = validated(metadata, known_scopes, default_scope_for, known_audiences,
                        signing_algs)
    # A secret only for the methods that use one.
    method = columns["token_endpoint_auth_method"]
    secret = new_secret(32) if method.startswith("client_secret") else None
    client = Client(
        # Hex, so that an id never starts with "-" and reads as an option on a command line.
        client_id=secrets.token_hex(16),
        client_secret_hash=hash_secret(secret) if secret else None,
        **columns,
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client=client, client_secret=secret)


def update_client(client: Client, metadata: Metadata, known_scopes: frozenset[str],
                  default_scope_for: Any = default_scope,
                  known_audiences: Collection[str] = (),
                  signing_algs: tuple[str, ...] = (DEFAULT_SIGNING_ALG,)) -> str | None:
    """Replace a client's registration (RFC 7592 §2.2: the request is the whole new one;
    `client update`: the current one with the options given), with the checks of a new one.
    Nothing is changed unless all of it passes. A change of auth method to one with a secret
    issues a new secret (returned); to one without, the secret goes."""
    columns = validated(metadata, known_scopes, default_scope_for, known_audiences,
                        signing_algs)
    secret = None
    uses_secret = columns["token_endpoint_auth_method"].startswith("client_secret")
    if uses_secret and client.client_secret_hash is None:
        secret = new_secret(32)
        client.client_secret_hash = hash_secret(secret)
    elif not uses_secret:
        client.client_secret_hash = None
    for name, value in columns.items():
        setattr(client, name, value)
    return secret


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
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "allowed_origins": list(client.allowed_origins or []),
        "resource_server": client.resource_server,
        "require_pushed_authorization_requests": bool(client.require_par),
        "dpop_bound_access_tokens": bool(client.dpop_bound),
        "require_mfa": bool(client.require_mfa),
        "profile": client.profile,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "created_at": client.created_at,
    }
