"""The grants (RFC 6749 §4, §6), one per module: Authlib's protocol, our storage and policy."""

from .authorization_code import AuthorizationCodeGrant
from .client_credentials import ClientCredentialsGrant
from .password import PasswordGrant
from .refresh_token import RefreshTokenGrant

__all__ = ["AuthorizationCodeGrant", "ClientCredentialsGrant", "PasswordGrant", "RefreshTokenGrant"]
