"""The device authorization grant (RFC 8628) on Authlib's DeviceAuthorizationEndpoint and
DeviceCodeGrant: for CLIs, TVs and other devices without a browser. The user approves at
/device (web/device.py) on another device, with the login and consent pages of the code flow;
the device polls the token endpoint meanwhile.

Polling (§3.5): authorization_pending while undecided; slow_down when a poll comes sooner than
the interval, which then grows by 5 s for good; access_denied; expired_token. An approved
request is claimed once (one conditional UPDATE): of two polls at once, one gets the tokens.
"""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint
from authlib.oauth2.rfc8628 import DeviceCodeGrant as AuthlibDeviceCodeGrant
from authlib.oauth2.rfc8628.errors import (
    AuthorizationPendingError,
    ExpiredTokenError,
    SlowDownError,
)

from ..config import Settings
from ..models import DeviceAuthorization, User
from ..policy import CONFIDENTIAL_AUTH_METHODS, DEVICE_CODE_GRANT, check_scope
from ..store import Store
from .grants.linked import IssuesTokens
from .resources import grant_resources

VERIFICATION_PATH = "/device"


class DeviceAuthorizationRequests(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]

    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__(None)
        self.settings = settings
        self.store = store

    def get_verification_uri(self) -> str:
        return f"{self.settings.issuer}{VERIFICATION_PATH}"

    def create_endpoint_response(self, request: Any) -> tuple[int, dict[str, Any], Any]:
        client = self.authenticate_client(request)
        if not client.check_grant_type(DEVICE_CODE_GRANT):
            raise UnauthorizedClientError("this client is not registered for the device grant")
        scope = request.payload.scope or client.scope
        registry = self.store.apis.registry()
        check_scope(scope, client, has_user=True, known=registry.known_scopes)
        resources = grant_resources(registry, scope,
                                    list(request.payload.datalist.get("resource", [])))
        device_code, user_code = self.store.devices.create(
            client_id=client.client_id, scope=scope, resources=resources,
            ttl=self.settings.device_code_ttl, interval=self.settings.device_poll_interval)
        verification_uri = self.get_verification_uri()
        return 200, {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={user_code}",
            "expires_in": self.settings.device_code_ttl,
            "interval": self.settings.device_poll_interval,
        }, default_json_headers


class DeviceCodeGrant(IssuesTokens, AuthlibDeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CONFIDENTIAL_AUTH_METHODS, "none"]

    def authenticate_token_endpoint_client(self) -> Any:
        client = super().authenticate_token_endpoint_client()
        self.request.client = client  # before the device code is looked up, for its check
        return client

    def query_device_credential(self, device_code: str) -> DeviceAuthorization | None:
        found = self.server.store.devices.by_device_code(device_code)
        # RFC 6749 §5.2: a grant that is "invalid ... or was issued to another client" is
        # invalid_grant (Authlib answers invalid_request and unauthorized_client).
        if found is None:
            raise InvalidGrantError("this device code is unknown")
        if found.client_id != self.request.client.client_id:
            raise InvalidGrantError("this device code was issued to another client")
        return found  # type: ignore[no-any-return]

    def validate_device_credential(self, credential: DeviceAuthorization) -> User:
        devices = self.server.store.devices
        if credential.status == "used":
            raise InvalidGrantError("this device code was used already")
        if credential.status == "denied":
            raise AccessDeniedError("the user denied the request")
        if credential.is_expired(self.server.store.now()):
            raise ExpiredTokenError("the device code has expired; start again")
        if credential.status == "pending":
            if devices.poll(credential):
                raise SlowDownError(f"poll at most every {credential.interval + 5} seconds")
            raise AuthorizationPendingError("the user has not answered yet")
        if credential.user is None or not devices.claim(credential):
            raise InvalidGrantError("this device code was used already")
        self.request.grant_auth_time, self.request.grant_amr = credential.auth_time, credential.amr
        return credential.user
