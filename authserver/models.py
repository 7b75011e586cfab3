"""The stored data: users, clients, refresh token families and tokens, authorization codes, notes.

Authlib's SQLAlchemy mixins keep client secrets and codes in plain text, so the models implement
Authlib's abstract interfaces (rfc6749.ClientMixin, AuthorizationCodeMixin, TokenMixin) instead
and store only hashes of secrets.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, list_to_scope
from authlib.oauth2.rfc6749.util import scope_to_list
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from .hashing import secret_matches
from .policy import ACR_PASSWORD, AMR_PASSWORD


def now() -> int:
    return int(time.time())


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The OIDC subject: stable, opaque, never reassigned (OIDC Core §2 "sub").
    sub: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: str(uuid.uuid4()))
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The other OpenID Connect standard claims the user has (OIDC Core §5.1), by claim name;
    # checked by store/user_claims.py.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def get_user_id(self) -> str:
        return self.sub


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
    scope: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    # Where logout tokens are POSTed (OpenID Connect Back-Channel Logout 1.0 §2.2).
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A security profile the client keeps to: "fapi2" (FAPI 2.0 Security Profile), or none.
    profile: Mapped[str | None] = mapped_column(String(10))
    # Tokens only DPoP-bound (RFC 9449 §5.2: dpop_bound_access_tokens).
    dpop_bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # Authorization requests only by PAR (RFC 9126 §6: require_pushed_authorization_requests).
    require_par: Mapped[bool] = mapped_column(Boolean, default=False)
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
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


class RefreshTokenFamily(Base):
    """All refresh tokens descended from one grant. Refresh and revocation serialise on this row:
    a refresh claims generation g by moving `generation` from g to g+1 in one conditional UPDATE.
    """

    __tablename__ = "refresh_token_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    # The generation of the one live refresh token of this family.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    rotated_at: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    # Which authorization code started the family, so a replayed code can revoke it.
    authorization_code_id: Mapped[int | None] = mapped_column(Integer)
    # The claims the grant asked for (OIDC Core §5.5; oauth/claims_request.py), and the sign-in
    # session it came from (sid), for the ID tokens of its refreshes and for userinfo.
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sid: Mapped[str | None] = mapped_column(String(43))
    # The APIs (audiences) the grant covers (RFC 8707; oauth/resources.py).
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The DPoP key (RFC 7638 thumbprint) a public client's refresh tokens are bound to.
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")


class RefreshToken(Base, TokenMixin):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family_generation", "family_id", "generation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(
        ForeignKey("refresh_token_families.id", ondelete="CASCADE")
    )
    generation: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    family: Mapped[RefreshTokenFamily] = relationship(lazy="joined")

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_at - self.issued_at

    def is_expired(self, at: int | None = None) -> bool:
        return self.expires_at <= (now() if at is None else at)

    def is_revoked(self) -> bool:
        return self.family.revoked_at is not None

    def is_live(self, at: int) -> bool:
        """Neither expired, revoked, nor rotated away, at time `at`."""
        return (
            not self.is_expired(at)
            and not self.is_revoked()
            and self.generation == self.family.generation
        )


class AuthorizationCode(Base, AuthorizationCodeMixin):
    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sid: Mapped[str | None] = mapped_column(String(43))
    # The APIs (audiences) the grant covers (RFC 8707; oauth/resources.py).
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The DPoP key the authorization request named (RFC 9449 §10: dpop_jkt).
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return ACR_PASSWORD  # the only way to sign in here (policy.py)

    def get_amr(self) -> list[str]:
        return list(AMR_PASSWORD)


class DeviceAuthorization(Base):
    """A device authorization request (RFC 8628 §3.1): its device code and user code, stored
    hashed; pending until the user approves or denies it at /device, then claimed once."""

    __tablename__ = "device_authorizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    resources: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # pending -> approved | denied; approved -> used (its tokens were issued).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    interval: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)

    user: Mapped[User | None] = relationship(lazy="joined")

    # Authlib's DeviceCredentialMixin (rfc8628), read by its DeviceCodeGrant.
    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return ""  # only its hash is kept

    def is_expired(self, at: int | None = None) -> bool:
        return self.expires_at <= (now() if at is None else at)


class Consent(Base):
    """The scopes a user has allowed a client, remembered so the consent page is asked once."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def covers(self, scope: str) -> bool:
        return set(scope.split()) <= set(self.scope.split())


class ClientsVersion(Base):
    """One row whose version moves on every change to the clients or the APIs (and their
    scopes), in the same transaction: the per-worker caches of clients (client_cache.py) and
    of the API registry (apis.py) trust what they hold only while this number is unchanged."""

    __tablename__ = "clients_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


@event.listens_for(Session, "before_flush")
def _bump_clients_version(session: Session, _context: Any, _instances: Any) -> None:
    # Every ORM write of a Client (create, delete, rotate-secret, any later edit) passes here,
    # whichever session or process makes it. Raw SQL on `clients` must bump the version itself.
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, (Client, Api, ApiScope)) for obj in changed):
        session.execute(
            update(ClientsVersion)
            .where(ClientsVersion.id == 1)
            .values(version=ClientsVersion.version + 1)
            .execution_options(synchronize_session=False)
        )


class PushedRequest(Base):
    """An authorization request pushed to /oauth/par (RFC 9126), until its request_uri is used
    (a code or a denial came of it) or expires; the URI is stored hashed."""

    __tablename__ = "pushed_requests"

    request_uri_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class InitialAccessToken(Base):
    """A token an operator hands out (`authserver registration-token create`) that lets one
    client register itself (RFC 7591 §3): stored hashed, used once, until it expires."""

    __tablename__ = "initial_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(64))  # the client it registered


class Api(Base):
    """A resource server of the operator's (RFC 8707 resource indicators): tokens for it carry
    its audience, only its scopes, and its lifetime when set. The built-in sample API is not
    stored: it comes from AUTHSERVER_API_AUDIENCE (store/apis.py)."""

    __tablename__ = "apis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    access_token_ttl: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    scopes: Mapped[list[ApiScope]] = relationship(
        back_populates="api", cascade="all, delete-orphan", lazy="selectin",
        order_by="ApiScope.name")


class ApiScope(Base):
    """A scope of an API; the name is unique across every API (one owner per scope)."""

    __tablename__ = "api_scopes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    api: Mapped[Api] = relationship(back_populates="scopes")


class ClientAssertionUse(Base):
    """A private_key_jwt assertion's jti, kept until the assertion expires, so that it is
    accepted once (RFC 7523 §3 item 7); the primary key makes the check atomic."""

    __tablename__ = "client_assertion_uses"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class LoginSession(Base):
    """A browser sign-in. The cookie holds only its random id (stored hashed here); logout,
    a password change or the user's removal end it on the server, so a copied cookie stops
    working (OWASP ASVS V3.3)."""

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    # The session's public id, in the ID tokens and logout tokens of its clients (OIDC
    # Back-Channel Logout §2.1); unlike the cookie's id it proves nothing.
    sid: Mapped[str | None] = mapped_column(String(43), index=True, unique=True)

    user: Mapped[User] = relationship(lazy="joined")


class LoginSessionClient(Base):
    """A client the sign-in session logged the user in to (a code was issued to it): who gets a
    logout token when the session ends."""

    __tablename__ = "login_session_clients"

    session_id_hash: Mapped[str] = mapped_column(
        ForeignKey("login_sessions.id_hash", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class SigningKey(Base):
    """A signing key of the database key store (AUTHSERVER_KEY_STORE=database; keystore/
    database.py): its lifecycle state and times, and the private key, always encrypted."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    alg: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[float] = mapped_column(Float)
    activated_at: Mapped[float | None] = mapped_column(Float)
    retired_at: Mapped[float | None] = mapped_column(Float)
    encrypted_key: Mapped[str] = mapped_column(Text)


class KeyStoreVersion(Base):
    """One row whose version moves with every change to signing_keys, in the same
    transaction: what running instances poll to follow a rotation. Writers lock it first, so
    two rotations queue instead of racing."""

    __tablename__ = "key_store_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_sub: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "text": self.text, "created_at": self.created_at}
