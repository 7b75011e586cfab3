"""The resource owner password credentials grant (RFC 6749 §4.3), for first-party clients."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from ...models import User
from ...policy import CONFIDENTIAL_AUTH_METHODS, check_scope
from .linked import IssuesTokens


class PasswordGrant(IssuesTokens, grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        check_scope(self.request.payload.scope, self.request.client, has_user=True,
                    known=self.server.store.apis.registry().known_scopes)

    def authenticate_user(self, username: str, password: str) -> User:
        user = self.server.store.users.authenticate(username, password)
        if user is None:
            # RFC 6749 §5.2: wrong resource owner credentials are an invalid grant.
            raise InvalidGrantError("invalid username or password")
        if user.verify_before_sign_in and not user.email_verified:
            # Signed up at /account/signup: no sign-in of any kind before the address is verified.
            raise InvalidGrantError("the email address of this account is not verified yet")
        return user
