"""The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from ...policy import CONFIDENTIAL_AUTH_METHODS, check_scope
from .linked import IssuesTokens


class ClientCredentialsGrant(IssuesTokens, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CONFIDENTIAL_AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        check_scope(self.request.payload.scope, self.request.client, has_user=False,
                    known=self.server.store.apis.registry().known_scopes)
