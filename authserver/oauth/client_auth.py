"""Client authentication (RFC 6749 §2.3) on Authlib's ClientAuthentication, with answers a
client developer can act on and an attacker cannot use.

Authlib answers every failure with "The client cannot authenticate with methods: [every method
the endpoint takes]", or says whether a client_id exists. Here a client that authenticates
with another method than the one it registered is told which one it registered (the method is
no secret, and the mistake is the commonest one: basic versus post); everything else — a wrong
secret, an unknown client — gets one generic answer that names no method and tells a wrong
secret from an unknown client in no way. A failing client assertion keeps its own reason (it
says what is wrong with the JWT, not whether a client exists).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import ClientAuthentication
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from joserfc import jws
from joserfc.errors import JoseError

from ..resource_server import untrusted
from .private_key_jwt import AUTH_METHOD as PRIVATE_KEY_JWT

GENERIC = "client authentication failed (unknown client or wrong credentials)"


class RegisteredMethodAuthentication(ClientAuthentication):
    def authenticate(self, request: Any, methods: list[str], endpoint: str) -> Any:
        try:
            return super().authenticate(request, methods, endpoint)
        except InvalidClientError as exc:
            exc.description = self._description(request, methods, exc)
            raise

    def _description(self, request: Any, methods: list[str], exc: InvalidClientError) -> str:
        presented, client_id = _presented(request)
        client = self.query_client(client_id) if client_id else None
        if client is None:
            return GENERIC
        registered = client.token_endpoint_auth_method
        if registered != presented:
            hint = " (a public client: send client_id alone, no secret)" if registered == "none" else ""
            return (f"this client is registered to authenticate with {registered}, "
                    f"not {presented}{hint}")
        if registered not in methods:
            return f"this endpoint does not accept {registered} client authentication"
        if registered == PRIVATE_KEY_JWT and exc.description:
            return str(exc.description)  # what is wrong with the assertion
        return GENERIC


def _presented(request: Any) -> tuple[str, str | None]:
    """The method a request uses (RFC 6749 §2.3, RFC 7523 §2.2) and the client it names."""
    basic_id, _ = extract_basic_authorization(request.headers)
    if basic_id:
        return "client_secret_basic", str(basic_id)
    form = request.form
    if form.get("client_assertion"):
        return PRIVATE_KEY_JWT, _assertion_subject(form["client_assertion"])
    method = "client_secret_post" if form.get("client_secret") else "none"
    return method, form.get("client_id") or None


def _assertion_subject(assertion: str) -> str | None:
    """The `sub` of a client assertion (its client_id), unverified: only to say which method
    that client registered."""
    try:
        # (untrusted.loads: half a surrogate pair would reach the database's encoder)
        subject = untrusted.loads(jws.extract_compact(assertion.encode()).payload).get("sub")
    except (JoseError, ValueError, UnicodeError, AttributeError, RecursionError):
        return None
    return subject if isinstance(subject, str) and subject else None
