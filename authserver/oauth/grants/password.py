"""The resource owner password credentials grant (RFC 6749 §4.3), for first-party clients."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from ...models import User
from ...policy import CONFIDENTIAL_AUTH_METHODS, check_scope
from ...store.second_factors import has_second_factor
from .linked import IssuesTokens


# The password alone is not the sign-in of a user with a second factor, nor of a client that
# requires two (INTERFACE.md "Two-factor sign-in"): the browser asks for it, in the code flow.
def second_factor_needed() -> InvalidGrantError:
    return InvalidGrantError(
        "this sign-in needs a second factor: use the browser (authorization code flow)")


class PasswordGrant(IssuesTokens, grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        if self.request.client.require_mfa or self.server.settings.require_mfa:
            raise second_factor_needed()
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
        if has_second_factor(self.server.store.session(), user.id):
            raise second_factor_needed()
        return user
