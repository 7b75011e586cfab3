"""Registered clients, the version their caches check, used client assertions, initial access tokens."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, list_to_scope
from authlib.oauth2.rfc6749.util import scope_to_list
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Integer,
    String,
    Text,
    event,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..hashing import secret_matches
from ..profiles import ClientProfile, profile_of
from .apis import Api, ApiScope
from .base import Base, now
from .federation import IdentityProvider
from .roles import ClientRole, Role


class Client(Base, ClientMixin):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where RP-initiated logout may send the browser back to (OIDC RP-Initiated Logout §3.1).
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Web origins (besides its redirect URIs') whose pages may read its answers (CORS).
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The audience of the API this client is the resource server of: it may introspect the
    # access tokens for that API (INTERFACE.md "introspection for APIs").
    resource_server: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    # Where logout tokens are POSTed (OpenID Connect Back-Channel Logout 1.0 §2.2).
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A security profile the client keeps to: "fapi2" (FAPI 2.0 Security Profile), or none.
    profile: Mapped[str | None] = mapped_column(String(10))
    # The algorithm of its ID tokens and logout tokens (OIDC Dynamic Client Registration §2:
    # id_token_signed_response_alg); None: the server's default.
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    # Tokens only DPoP-bound (RFC 9449 §5.2: dpop_bound_access_tokens).
    dpop_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # Authorization requests only by PAR (RFC 9126 §6: require_pushed_authorization_requests).
    require_par: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its sign-ins need two factors (acr "2"; `client create|update --require-mfa`).
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its RFC 7592 registration access token (hashed), when it registered itself.
    registration_access_token_hash: Mapped[str | None] = mapped_column(String(64))
    # The client's public keys (a JWK Set), for private_key_jwt (RFC 7523 §2.2) and signed
    # request objects (RFC 9101).
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def get_client_id(self) -> str:
        return self.client_id

    @property
    def client_metadata(self) -> dict[str, Any]:
        """The registered metadata Authlib's endpoints read (RFC 7591 names)."""
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or [])}

    def get_default_redirect_uri(self) -> str | None:
        # Only unambiguous when exactly one is registered (RFC 6749 §3.1.2.3).
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Authlib's check at /oauth/authorize, after ours (policy.check_scope, which names
        the scope at fault; an OpenID request has dropped the scopes nobody registered)."""
        allowed = scope_to_list(self.scope) or []
        if not scope:
            return list_to_scope(allowed)
        requested = scope_to_list(scope)
        if any(s not in allowed for s in requested):
            return None
        return list_to_scope(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string matching (RFC 9700 §4.1.3): no prefixes, no wildcards.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def security_profile(self) -> ClientProfile:
        """The rules its profile adds (profiles.py); a client without one gets the plain rules."""
        return profile_of(self.profile)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


class ClientsVersion(Base):
    """One row whose version moves on every change to the clients, the APIs (and their
    scopes) or the roles and the clients' role grants, in the same transaction: the per-worker
    caches of clients (client_cache.py), of the API registry (apis.py) and of the clients'
    roles (store/roles.py) trust what they hold only while this number is unchanged."""

    __tablename__ = "clients_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


@event.listens_for(Session, "before_flush")
def _bump_clients_version(session: Session, _context: Any, _instances: Any) -> None:
    # Every ORM write of a Client, an API, a role, a client's role grant or an upstream
    # provider (create, delete, rotate-secret, any later edit) passes here, whichever session
    # or process makes it. Raw SQL on `clients`, `apis`, `api_scopes`, `roles`,
    # `client_roles` or the providers' slugs and names must bump the version itself.
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, (Client, Api, ApiScope, Role, ClientRole, IdentityProvider))
           for obj in changed):
        session.execute(
            update(ClientsVersion)
            .where(ClientsVersion.id == 1)
            .values(version=ClientsVersion.version + 1)
            .execution_options(synchronize_session=False)
        )


class ClientAssertionUse(Base):
    """A private_key_jwt assertion's jti, kept until the assertion expires, so that it is
    accepted once (RFC 7523 §3 item 7); the primary key makes the check atomic."""

    __tablename__ = "client_assertion_uses"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class InitialAccessToken(Base):
    """A token an operator hands out (`authserver registration-token create`) that lets one
    client register itself (RFC 7591 §3): stored hashed, used once, until it expires."""

    __tablename__ = "initial_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(64))  # the client it registered
