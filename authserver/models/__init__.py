"""The stored data, one module a concern: accounts (users, consents, sign-in sessions),
account_links (mailed verification and reset links), clients,
grants (refresh families and tokens, codes, device authorizations, pushed requests),
interactions (a request's login and consent steps), federation (upstream providers,
linked identities), apis, keys (the database key store), mfa (second factors), passkeys
(WebAuthn credentials and their challenges),
notes, roles (roles and groups). Import them from here.

Authlib's SQLAlchemy mixins keep client secrets and codes in plain text, so the models implement
Authlib's abstract interfaces (rfc6749.ClientMixin, AuthorizationCodeMixin, TokenMixin) instead
and store only hashes of secrets.
"""

from .account_links import RESET_PASSWORD, VERIFY_EMAIL, AccountLink
from .accounts import Consent, LoginSession, LoginSessionClient, User
from .apis import Api, ApiScope
from .base import Base, now
from .clients import Client, ClientAssertionUse, ClientsVersion, InitialAccessToken
from .federation import IdentityProvider, LinkedIdentity, UpstreamSignIn
from .grants import AuthorizationCode, DeviceAuthorization, PushedRequest, RefreshToken, RefreshTokenFamily
from .interactions import Interaction
from .keys import KeyStoreVersion, SigningKey
from .mfa import RecoveryCode, TotpSecret
from .notes import Note
from .passkeys import Passkey, PasskeyChallenge
from .roles import ClientRole, Group, GroupMember, GroupRole, Role, UserRole

__all__ = [
    "RESET_PASSWORD",
    "VERIFY_EMAIL",
    "AccountLink",
    "Api",
    "ApiScope",
    "AuthorizationCode",
    "Base",
    "Client",
    "ClientAssertionUse",
    "ClientRole",
    "ClientsVersion",
    "Consent",
    "DeviceAuthorization",
    "Group",
    "IdentityProvider",
    "GroupMember",
    "GroupRole",
    "InitialAccessToken",
    "Interaction",
    "KeyStoreVersion",
    "LinkedIdentity",
    "LoginSession",
    "LoginSessionClient",
    "Note",
    "Passkey",
    "PasskeyChallenge",
    "PushedRequest",
    "RecoveryCode",
    "RefreshToken",
    "RefreshTokenFamily",
    "Role",
    "SigningKey",
    "TotpSecret",
    "UpstreamSignIn",
    "User",
    "UserRole",
    "now",
]
