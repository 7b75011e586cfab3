"""The Authlib AuthorizationServer, its grants, and their storage hooks.

Authlib does the protocol; the subclasses here only fill in storage and our policies.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import Flask
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, db
from .client_auth import AUTH_METHOD, PrivateKeyJWT
from .client_cache import ClientCache
from .config import Settings
from .hashing import hash_password, hash_secret, password_matches, password_needs_rehash
from .keystore import KeyStore
from .models import Client, RefreshToken, RefreshTokenFamily, User
from .tokens import USER_ONLY_SCOPES, AccessTokenGenerator, IDTokenIssuer

SUPPORTED_SCOPES = ("openid", "profile", "email", "offline_access", "notes:read", "notes:write")
SUPPORTED_GRANT_TYPES = ("authorization_code", "client_credentials", "password", "refresh_token")
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
SUPPORTED_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
# Grants whose token request writes (refresh tokens, codes): they declare it up front.
WRITING_GRANT_TYPES = frozenset({"password", "refresh_token", "authorization_code"})


# Core, not ORM: this runs on every token request, and the ORM's identity map and loading cost
# more than the query itself. The Client comes back transient (nothing here writes it).
_CLIENT_BY_ID = select(*Client.__table__.columns).where(
    Client.__table__.c.client_id == bindparam("client_id")
)


def query_client(client_id: str) -> Client | None:
    if "\x00" in client_id:  # from a decoded Basic header: PostgreSQL text cannot hold it
        return None
    row = db.session().connection().execute(_CLIENT_BY_ID, {"client_id": client_id}).first()
    return Client(**row._mapping) if row is not None else None


def check_scope(requested: str | None, client: Client, *, has_user: bool) -> None:
    """Unknown scopes, scopes the client may not have, and user scopes without a user are refused
    by name rather than silently dropped (RFC 6749 §5.2 invalid_scope)."""
    for scope in scope_to_list(requested) or []:
        if scope not in SUPPORTED_SCOPES:
            raise InvalidScopeError(f"unknown scope '{scope}'")
        if scope not in scope_to_list(client.scope):
            raise InvalidScopeError(f"scope '{scope}' is not allowed for this client")
        if not has_user and scope in USER_ONLY_SCOPES:
            raise InvalidScopeError(f"scope '{scope}' needs a user; this grant has none")


_FAMILIES = cast(Table, RefreshTokenFamily.__table__)
_REFRESH_TOKENS = cast(Table, RefreshToken.__table__)
# The refresh path's statements are built once, with bound parameters: building and hashing a
# new statement on each request cost more than running it.
_INSERT_FAMILY = insert(_FAMILIES)
_INSERT_REFRESH_TOKEN = insert(_REFRESH_TOKENS)
_REFRESH_TOKEN_BY_HASH = select(RefreshToken).where(
    RefreshToken.token_hash == bindparam("token_hash")
)
_CLAIM_GENERATION = (
    update(_FAMILIES)
    .where(
        _FAMILIES.c.id == bindparam("family_id"),
        _FAMILIES.c.generation == bindparam("expected"),
        _FAMILIES.c.revoked_at.is_(None),
    )
    .values(
        generation=bindparam("next_generation"),
        rotated_at=bindparam("now"),
        expires_at=bindparam("new_expires_at"),
    )
)


def save_token(token: dict[str, Any], request: Any) -> None:
    """Store the refresh token, if one was issued; access tokens are self-contained JWTs.

    Plain INSERTs rather than ORM objects: this runs on every refresh, and the unit of work
    cost more than the statements. A rotation's family row was already moved by _claim."""
    raw_refresh_token = token.get("refresh_token")
    if not raw_refresh_token:
        return
    settings: Settings = request.settings
    session = db.session()
    issued_at = int(time.time())
    expires_at = issued_at + settings.refresh_token_ttl
    previous: RefreshToken | None = getattr(request, "refresh_token", None)
    if previous is not None:
        family_id, generation = previous.family_id, request.claimed_generation
    else:
        code = getattr(request, "authorization_code", None)
        family_id, generation = str(uuid.uuid4()), 0
        session.execute(_INSERT_FAMILY, {
            "id": family_id,
            "client_id": request.client.client_id,
            "user_id": request.user.id,
            "scope": token.get("scope", ""),
            "generation": 0,
            "auth_time": code.auth_time if code is not None else issued_at,
            "created_at": issued_at,
            "expires_at": expires_at,
            "authorization_code_id": code.id if code is not None else None,
        })
    session.execute(_INSERT_REFRESH_TOKEN, {
        "token_hash": hash_secret(raw_refresh_token),
        "family_id": family_id,
        "generation": generation,
        "client_id": request.client.client_id,
        "scope": token.get("scope", ""),
        "issued_at": issued_at,
        "expires_at": expires_at,
    })
    session.commit()


def revoke_family(family_id: str) -> bool:
    """Mark a refresh token family revoked; True if this call revoked it. Takes the family row's
    lock, so it serialises with a refresh of the same family."""
    result = db.session().execute(
        update(RefreshTokenFamily)
        .where(RefreshTokenFamily.id == family_id, RefreshTokenFamily.revoked_at.is_(None))
        .values(revoked_at=int(time.time()))
        .execution_options(synchronize_session=False)
    )
    return bool(db.rows_changed(result))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        check_scope(self.request.payload.scope, self.request.client, has_user=False)


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        check_scope(self.request.payload.scope, self.request.client, has_user=True)

    def authenticate_user(self, username: str, password: str) -> User:
        session = db.session()
        user = session.scalar(select(User).where(User.username == username))
        # password_matches runs the full argon2 check even for an unknown user (timing).
        if not password_matches(password, user.password_hash if user else None) or user is None:
            # RFC 6749 §5.2: wrong resource owner credentials are an invalid grant.
            raise InvalidGrantError("invalid username or password")
        if password_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    # Public clients (code flow with PKCE) refresh too; they are bound by the token's client_id.
    TOKEN_ENDPOINT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]
    # Rotate on every use (RFC 9700 §4.14.2).
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken:
        session = db.begin_write()
        token = session.scalar(_REFRESH_TOKEN_BY_HASH, {"token_hash": hash_secret(refresh_token)})
        if token is None:
            raise InvalidGrantError("unknown refresh token")
        if token.client_id != self.request.client.client_id:
            raise InvalidGrantError("refresh token was issued to another client")
        family = token.family
        if family.revoked_at is not None:
            raise InvalidGrantError("refresh token has been revoked")
        if token.is_expired():
            raise InvalidGrantError("refresh token has expired")
        claimed = self._claim(token)
        if claimed is None:
            return self._reject_reuse(token)
        self.request.claimed_generation = claimed
        return token

    def _claim(self, token: RefreshToken) -> int | None:
        """Atomically move the family past this token: the new generation, or None when the token
        is not the live one, including when a concurrent request claimed it first."""
        family = token.family
        now = int(time.time())
        # The family's lifetime slides with each rotation, set here rather than by a second
        # UPDATE when the new token is stored.
        expires_at = now + self.request.settings.refresh_token_ttl
        grace = self.request.settings.refresh_grace_seconds
        if token.generation == family.generation:
            expected = token.generation
        elif (
            grace
            and token.generation == family.generation - 1
            and family.rotated_at is not None
            and now - family.rotated_at <= grace
        ):
            # Within the grace window the immediately previous token may be retried once more
            # (its response may have been lost); the child it got becomes stale.
            expected = family.generation
        else:
            return None
        result = db.session().connection().execute(_CLAIM_GENERATION, {
            "family_id": family.id, "expected": expected, "next_generation": expected + 1,
            "now": now, "new_expires_at": expires_at,
        })
        if db.rows_changed(result) != 1:
            return None
        # What the database now holds, without marking the object dirty (no UPDATE on flush).
        for name, value in (("generation", expected + 1), ("rotated_at", now),
                            ("expires_at", expires_at)):
            set_committed_value(family, name, value)
        return expected + 1

    def _reject_reuse(self, token: RefreshToken) -> RefreshToken:
        # A rotated token came back, or two requests presented one token at once: someone may
        # hold a copy, and we cannot tell who is legitimate, so the whole family is revoked
        # (RFC 9700 §4.14.2). AUTHSERVER_REFRESH_GRACE_SECONDS forgives one retry.
        session = db.session()
        revoke_family(token.family_id)
        session.commit()
        audit.event("refresh_token.reuse_detected", "family_revoked", client_id=token.client_id,
                    family=token.family_id, sub=token.family.user.sub)
        raise InvalidGrantError("refresh token already used; its grant has been revoked")

    def authenticate_user(self, refresh_token: RefreshToken) -> User:
        return refresh_token.family.user

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        # Nothing left to do: _claim already moved the family past the old token.
        pass


class OAuth2Server(AuthorizationServer):
    """Authlib's Flask server with our settings and key store attached to each request."""

    def __init__(self, settings: Settings, keystore: KeyStore) -> None:
        super().__init__()
        self.settings = settings
        self.keystore = keystore
        self.scopes_supported = list(SUPPORTED_SCOPES)
        self.client_cache: ClientCache | None = None

    def init_app(self, app: Flask, query_client: Any = None, save_token: Any = None) -> None:
        super().init_app(app, query_client, save_token)
        self.register_token_generator("default", AccessTokenGenerator(self.settings, self.keystore))

    def create_oauth2_request(self, request: Any) -> Any:
        oauth_request = super().create_oauth2_request(request)
        oauth_request.settings = self.settings
        return oauth_request

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Any:
        # Token responses and errors must never be cached (RFC 6749 §5.1, §5.2).
        headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "pragma")]
        headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return super().handle_response(status_code, payload, headers)


def create_server(app: Flask, settings: Settings, keystore: KeyStore) -> OAuth2Server:
    # Imported here: these build on check_scope and revoke_family above.
    from .code_flow import AuthorizationCodeGrant, OpenIDCodeIssuer, StrictCodeChallenge
    from .introspection import (
        AccessTokenIntrospection,
        AccessTokenRevocation,
        RefreshTokenIntrospection,
        RefreshTokenRevocation,
    )

    server = OAuth2Server(settings, keystore)
    server.client_cache = ClientCache(app.extensions["authserver.db"].engine, query_client)
    server.init_app(app, query_client=server.client_cache.get, save_token=save_token)
    server.register_client_auth_method(AUTH_METHOD, PrivateKeyJWT(settings.issuer, settings.leeway))
    id_tokens = IDTokenIssuer(settings, keystore)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(PasswordGrant, [id_tokens])
    server.register_grant(RefreshTokenGrant, [id_tokens])
    server.register_grant(
        AuthorizationCodeGrant,
        [StrictCodeChallenge(required=True), OpenIDCodeIssuer(settings, keystore)],
    )
    server.register_endpoint(AccessTokenIntrospection(settings.issuer, keystore))
    server.register_endpoint(RefreshTokenIntrospection)
    server.register_endpoint(AccessTokenRevocation(settings.issuer, keystore))
    server.register_endpoint(RefreshTokenRevocation)
    return server
