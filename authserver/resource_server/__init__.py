"""The resource protector: validates RFC 9068 JWT access tokens for Flask views.

A library of its own (it imports nothing else of authserver), used by this server's sample
APIs, introspection and revocation, and by any other Flask service:

    require_token = protector_for_issuer("https://issuer.example")

    @app.get("/hello")
    @require_token("profile")
    def hello():
        return {"sub": current_token["sub"]}

    @app.get("/admin")
    @require_token("profile", roles="admin")   # and the token's `roles` must hold admin
    def admin():
        ...
"""

from authlib.integrations.flask_oauth2 import current_token

from .keys import KeySource, LocalKeys, RemoteIssuerKeys
from .protector import BearerProtector, create_protector, protector_for_issuer
from .validator import VERIFIED_CACHE_SIZE, AccessTokenValidator, RoleRequired, ScopeRequired

__all__ = [
    "VERIFIED_CACHE_SIZE",
    "AccessTokenValidator",
    "BearerProtector",
    "KeySource",
    "LocalKeys",
    "RemoteIssuerKeys",
    "RoleRequired",
    "ScopeRequired",
    "create_protector",
    "current_token",
    "protector_for_issuer",
]
