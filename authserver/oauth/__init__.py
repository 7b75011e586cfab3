"""The protocol, one module per specification, on Authlib: grants (RFC 6749), PKCE (RFC 7636),
access tokens (RFC 9068), OpenID Connect Core, private_key_jwt (RFC 7523), introspection
(RFC 7662), revocation (RFC 7009), request objects (RFC 9101), the claims parameter,
RP-initiated and back-channel logout, discovery metadata (RFC 8414); DPoP (RFC 9449) and
resource indicators (RFC 8707) as Authlib grant extensions.
Storage is the store's. Nothing here imports Flask: the web layer passes each request in and
sends each answer out (http.py)."""

from __future__ import annotations

from ..config import Settings
from ..keystore import KeyStore
from ..resource_server import AccessTokenValidator
from ..resource_server.dpop import Nonces
from ..store import Store
from .device import DeviceAuthorizationRequests, DeviceCodeGrant
from .dpop import DPoPBinding
from .end_session import EndSession
from .grants import AuthorizationCodeGrant, ClientCredentialsGrant, PasswordGrant, RefreshTokenGrant
from .introspection import AccessTokenIntrospection, RefreshTokenIntrospection
from .openid import IDTokenIssuer, OpenIDCodeIssuer
from .par import PushedAuthorization
from .pkce import StrictCodeChallenge
from .private_key_jwt import AUTH_METHOD, private_key_jwt
from .registration import Configuration, Registration
from .resources import ResourceIndicators
from .revocation import AccessTokenRevocation, RefreshTokenRevocation
from .server import OAuth2Server

__all__ = ["OAuth2Server", "create_server"]


def create_server(settings: Settings, keystore: KeyStore, store: Store,
                  validator: AccessTokenValidator, dpop_nonces: Nonces | None = None
                  ) -> OAuth2Server:
    server = OAuth2Server(settings, keystore, store)
    server.dpop_nonces = dpop_nonces
    server.register_extension(server.issuer_parameter)
    server.register_client_auth_method(AUTH_METHOD, private_key_jwt(settings.issuer, store,
                                                                    settings.leeway))
    # Grant extensions: each hooks the grant it is registered on (Authlib's register_hook),
    # run in this order (grants/linked.py): the token's API before its DPoP key, and both
    # before PKCE and the OpenID checks at the authorization endpoint.
    resources = ResourceIndicators(store.apis.registry)
    dpop = DPoPBinding(store, settings.issuer, dpop_nonces)
    id_tokens = IDTokenIssuer(settings, keystore, store)
    server.register_grant(ClientCredentialsGrant, [resources, dpop])
    server.register_grant(PasswordGrant, [resources, dpop, id_tokens])
    server.register_grant(RefreshTokenGrant, [resources, dpop, id_tokens])
    server.register_grant(DeviceCodeGrant, [resources, dpop, id_tokens])
    server.register_grant(
        AuthorizationCodeGrant,
        [resources, dpop, StrictCodeChallenge(required=True),
         OpenIDCodeIssuer(settings, keystore, store)],
    )
    # The access-token endpoints come first: each passes what is not an access token on.
    server.register_endpoint(AccessTokenIntrospection(validator, store))
    server.register_endpoint(RefreshTokenIntrospection(store))
    server.register_endpoint(AccessTokenRevocation(validator))
    server.register_endpoint(RefreshTokenRevocation(store))
    server.register_endpoint(EndSession(settings.issuer, keystore, settings.signing_algs))
    server.register_endpoint(DeviceAuthorizationRequests(settings, store))
    pushed = PushedAuthorization(settings, store)
    pushed.server = server
    server.register_endpoint(pushed)
    server.register_endpoint(Registration(settings, store))
    server.register_endpoint(Configuration(settings, store))
    return server
