"""Authlib's AuthorizationServer (its core, without Flask) with our store, settings and key
store attached.

The web layer builds each request (oauth/http.py's ProtocolRequest, web/protocol.py) and passes
it in; every answer is an `Answer` (status, body, headers) the web layer sends as it is. Each
answer ends the request's unit of work: committed when it succeeded (a token response, an
authorization redirect), rolled back when it is an error. So a token response is written only
once everything in it was built, the ID token's signature included.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import JsonRequest, OAuth2Request
from authlib.oauth2.rfc6749.errors import UnsupportedGrantTypeError, UnsupportedResponseTypeError
from authlib.oauth2.rfc9207 import IssuerParameter

from ..config import Settings
from ..keystore import KeyStore
from ..models import Client, User
from ..policy import shown
from ..resource_server.dpop import Nonces
from ..store import Store
from ..store.refresh_tokens import Lifetimes
from .access_tokens import AccessTokenGenerator, issues_refresh_token
from .authorization_request import ValidatedRequest, oauth2_request
from .backchannel_logout import LogoutNotifier
from .client_auth import RegisteredMethodAuthentication
from .http import Answer
from .request_objects import RequestObjects


class Issuer(IssuerParameter):
    """RFC 9207: every authorization response, errors included, names the issuer."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


class OAuth2Server(AuthorizationServer):
    def __init__(self, settings: Settings, keystore: KeyStore, store: Store) -> None:
        super().__init__()
        self.settings = settings
        self.keystore = keystore
        self.store = store
        # Said before any method is registered, so every method is registered on it.
        self._client_auth = RegisteredMethodAuthentication(self.query_client)
        self.issuer_parameter = Issuer(settings.issuer)
        self.request_objects = RequestObjects(settings.issuer, settings.leeway, store)
        # Server DPoP nonces (RFC 9449 §8), when AUTHSERVER_DPOP_NONCE is on (set by the app,
        # which holds the secret every worker shares).
        self.dpop_nonces: Nonces | None = None
        # The grants issue through it, saying what each token is for (grants/linked.py).
        self.access_tokens = AccessTokenGenerator(settings, keystore)
        self.logout_notifier = LogoutNotifier(settings.issuer, keystore,
                                              settings.backchannel_logout_timeout,
                                              settings.backchannel_logout_retry_delays,
                                              signing_algs=settings.signing_algs)
        self.refresh_lifetimes = Lifetimes(
            ttl=settings.refresh_token_ttl,
            family_max_age=settings.refresh_family_max_age,
            grace=settings.refresh_grace_seconds,
        )

    def query_client(self, client_id: str) -> Client | None:
        # The first look in a request reads the clients version; later ones in the same request
        # (Authlib's grant checks after ours) trust that read.
        return self.store.clients.get_again(client_id)

    def start_grant(self, request: Any, user: User, scope: str, resources: list[str],
                    access_ttl: int) -> str:
        """The grant (a refresh token family) a new token response for a user belongs to,
        started before its access token is signed so the token can name it. Without refresh
        tokens to come it lives as long as the access token (`access_ttl`), then housekeeping
        prunes it."""
        now = request.grant_started_at = self.store.now()  # the token's iat too
        if issues_refresh_token(request.client, user):
            expires_at = self.refresh_lifetimes.expiry(now, now)
        else:
            expires_at = now + access_ttl
        code = getattr(request, "authorization_code", None)
        # When the user signed in: the code's, a device approval's (device.py), else now.
        auth_time = code.auth_time if code is not None else (
            getattr(request, "grant_auth_time", None) or now)
        request.grant_id = self.store.refresh_tokens.start_family(
            client_id=request.client.client_id,
            user_id=user.id,
            scope=scope,
            auth_time=auth_time,
            authorization_code_id=code.id if code is not None else None,
            expires_at=expires_at,
            claims=code.claims if code is not None else None,
            sid=code.sid if code is not None else None,
            resources=resources,
            dpop_jkt=getattr(request, "grant_dpop_jkt", None),
            amr=code.amr if code is not None else getattr(request, "grant_amr", None),
        )
        request.grant_expires_at, request.grant_scope = expires_at, scope
        return request.grant_id  # type: ignore[no-any-return]

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store the refresh token, if one was issued, in its grant's family (started by
        start_grant, or moved on by the refresh grant's claim); access tokens are JWTs. A
        refresh token keeps the grant's whole scope: each access token has one API's part."""
        raw = token.get("refresh_token")
        if not raw or raw == getattr(request, "stored_successor", None):
            return  # none, or stored by the refresh grant's claim already (claim_live)
        previous = getattr(request, "refresh_token", None)
        if previous is not None:
            family_id, generation = previous.family_id, request.claimed_generation
            expires_at, scope = previous.family.expires_at, previous.family.scope
        else:
            family_id, generation = request.grant_id, 0
            expires_at, scope = request.grant_expires_at, request.grant_scope
        self.store.refresh_tokens.add(raw, family_id=family_id, generation=generation,
                                      client_id=request.client.client_id,
                                      scope=scope, expires_at=expires_at)

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        # Built by the web layer (web/protocol.py), or from an authorization request's
        # validated parameters (authorization_request.py).
        if not isinstance(request, OAuth2Request):
            raise TypeError("pass the request in (oauth/http.py's ProtocolRequest)")
        return request

    def create_json_request(self, request: Any) -> JsonRequest:
        if not isinstance(request, JsonRequest):
            raise TypeError("pass the request in (oauth/http.py's ProtocolJsonRequest)")
        return request

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's signals (a client authenticated, a token revoked): nobody listens; our
        security events are recorded where they happen (events.py)."""

    def create_token_response(self, request: Any = None) -> Answer:
        """Authlib's, and then, once the response is committed, the grant records that it
        issued a token (grants/linked.py)."""
        request = self.create_oauth2_request(request)
        try:
            grant = self.get_token_grant(request)
        except UnsupportedGrantTypeError as error:
            return self._back_channel(request, self.handle_error_response(request, error))
        try:
            grant.validate_token_request()
            answer: Answer = self.handle_response(*grant.create_token_response())
        except OAuth2Error as error:
            return self._back_channel(request, self.handle_error_response(request, error))
        grant.token_issued(answer.json())
        return self._back_channel(request, answer)

    def create_endpoint_response(self, name: str, request: Any = None) -> Answer | None:
        answer: Answer | None = super().create_endpoint_response(name, request)
        return self._back_channel(request, answer) if answer is not None else None

    def authorization_response(self, validated: ValidatedRequest, user: User | None,
                               login_session: Any) -> Answer:
        """The answer to an authorization request validated before (authorization_request.py),
        without validating it again: a code for `user`, or access_denied when None. Authlib's
        create_authorization_response would validate the request once more first."""
        request = oauth2_request(self.settings.issuer, validated.parameters)
        request.client = validated.client
        request.resources, request.requested_claims = validated.resources, validated.claims
        request.login_session = login_session
        grant = self.get_authorization_grant(request)
        try:
            response = self.handle_response(
                *grant.create_authorization_response(validated.redirect_uri, user))
        except OAuth2Error as error:
            error.state = request.payload.state
            response = self.handle_error_response(request, error)
        grant.execute_hook("after_authorization_response", response)
        self.execute_hook("after_create_authorization_response", response)  # RFC 9207's iss
        return response

    def get_authorization_grant(self, request: Any) -> Any:
        try:
            return super().get_authorization_grant(request)
        except ValueError:
            # Authlib echoes the response_type into the description, and refuses a value
            # with characters RFC 6749 §5.2 forbids there: the same error, without the echo.
            # (The view has already checked the client and its redirect_uri.)
            client = self.query_client(request.payload.client_id)
            redirect_uri = request.payload.redirect_uri or (
                client.get_default_redirect_uri() if client is not None else None)
            raise UnsupportedResponseTypeError(
                shown(request.payload.response_type),
                description="this response_type is not supported (only 'code' is)",
                redirect_uri=redirect_uri) from None

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Answer:
        if status_code < 400:
            self.store.commit()
        else:
            self.store.rollback()
        # Token responses and errors must never be cached (RFC 6749 §5.1, §5.2).
        headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "pragma")]
        headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return Answer(status_code, payload, headers)

    def _back_channel(self, request: Any, answer: Answer) -> Answer:
        """RFC 9449 §8.2: with server nonces on, every answer to a client's own request
        (token, introspection, revocation, device authorization, PAR) carries the next one."""
        if (self.dpop_nonces is not None and getattr(request, "back_channel", False)
                and answer.header("DPoP-Nonce") is None):
            answer.headers.append(("DPoP-Nonce", self.dpop_nonces.current()))
        return answer
