"""The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2), validated once.

/oauth/authorize and /oauth/par run the same steps, in this order, each small and named (as
node-oidc-provider's lib/actions/authorization/ does); what passes is a `ValidatedRequest`,
stored with the pending interaction whose login and consent steps resume it (web/interaction.py)
without validating it again.

Two kinds of failure: `UnsafeRequest` when there is no client we know and a redirect URI it
registered (RFC 6749 §4.1.2.1: shown to the user, never redirected, or we would be an open
redirector), and Authlib's OAuth2Error, sent back to the client's redirect_uri with `state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidRequestError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import scope_to_list

from ..models import Client, User
from ..resource_server.keys import is_ascii_digits
from ..store.pushed_requests import is_pushed
from .claims_request import parse_claims_request, requested_subject, scopes_for
from .parameter_limits import check_parameter_lengths
from .request_objects import sent_parameters

# RFC 8707 §2: the one parameter an authorization request may repeat.
REPEATABLE = frozenset({"resource"})


class UnsafeRequest(Exception):
    """A problem to show the user: there is no safe place to send the client an error."""

    def __init__(self, message: str, client: Client | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.client = client


@dataclass
class ValidatedRequest:
    """An authorization request that passed every step, and what the steps found."""

    client: Client
    parameters: dict[str, Any]   # as Authlib's grant validated them (unknown scopes dropped)
    redirect_uri: str
    resources: list[str]
    claims: dict[str, list[str]] | None
    consent_scope: str           # the scopes, and those the claims parameter asked for by name
    request_uri: str | None      # the pushed request's URN, spent when an answer comes of it
    subject: str | None = None   # the only end-user the answer may be for (claims' sub value)
    grant: Any = None            # Authlib's validated grant (at /oauth/authorize only)
    # Someone else than `subject` is signed in (so the login page says whom to sign in as).
    another_account_signed_in: bool = False

    @property
    def prompts(self) -> set[str]:
        return set((self.parameters.get("prompt") or "").split())

    @property
    def state(self) -> str | None:
        return self.parameters.get("state")

    def stored(self) -> dict[str, Any]:
        """What the pending interaction keeps (JSON)."""
        return {"parameters": self.parameters, "redirect_uri": self.redirect_uri,
                "resources": self.resources, "claims": self.claims,
                "consent_scope": self.consent_scope, "request_uri": self.request_uri,
                "subject": self.subject}

    @classmethod
    def restored(cls, client: Client, stored: dict[str, Any]) -> ValidatedRequest:
        return cls(client=client, **stored)


def oauth2_request(issuer: str, parameters: dict[str, Any]) -> OAuth2Request:
    """Authlib's request object for these parameters (no web framework needed)."""
    request = OAuth2Request("GET", issuer + "/oauth/authorize")
    request.payload = BasicOAuth2Payload(parameters)
    return request


def max_age(parameters: dict[str, Any]) -> int | None:
    raw = parameters.get("max_age")  # check_max_age has refused anything but digits
    return int(raw) if raw is not None else None


# The steps. Each takes what the ones before found, and raises or returns.

def check_single_values(sent: Any) -> None:
    """RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    (`sent`: a MultiDict of the query or form.)"""
    repeated = next((name for name in sent
                     if name not in REPEATABLE and len(sent.getlist(name)) > 1), None)
    if repeated:
        raise UnsafeRequest(f"The request gives the parameter {repeated!r} more than once.")


def check_client_and_redirect(server: Any, parameters: dict[str, Any]) -> tuple[Client, str]:
    """A registered client, and a redirect URI it registered (given, or its only one)."""
    client_id = parameters.get("client_id")
    if not client_id:
        raise UnsafeRequest("The request has no client_id.")
    # Asked up to three times a validation (the request, its request object, Authlib's
    # check): the clients version is read once a request.
    client = server.store.clients.get_again(client_id)
    if client is None:
        raise UnsafeRequest("This application is not registered here (unknown client_id).")
    redirect_uri = parameters.get("redirect_uri")
    if redirect_uri is None:
        redirect_uri = client.get_default_redirect_uri()
        if redirect_uri is None:
            raise UnsafeRequest(
                "The request has no redirect_uri, and this application registered several.", client)
    elif not client.check_redirect_uri(redirect_uri):
        raise UnsafeRequest("The redirect_uri is not registered for this application.", client)
    return client, redirect_uri


def resolve_request_object(server: Any, sent: dict[str, Any], client: Client,
                           redirect_uri: str) -> dict[str, Any]:
    """The parameters themselves: the verified request object's or the pushed request's claims
    (RFC 9101, RFC 9126), or what was sent. Its errors go back to the redirect_uri given
    outside the object (RFC 9101 §6.3), which check_client_and_redirect found safe."""
    try:
        return server.request_objects.parameters(server, sent, client)  # type: ignore[no-any-return]
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        error.state = error.state or sent.get("state")
        raise


def check_pushed_if_required(server: Any, client: Client, sent: dict[str, Any],
                             redirect_uri: str, parameters: dict[str, Any]) -> None:
    """RFC 9126 §6: a client (or a server) that requires PAR takes no other request."""
    if ((client.require_par or server.settings.require_par)
            and not is_pushed(sent.get("request_uri"))):
        raise InvalidRequestError(
            "authorization requests of this client must be pushed (/oauth/par)",
            redirect_uri=redirect_uri, state=parameters.get("state"))


def check_lengths(parameters: Any, redirect_uri: str | None) -> None:
    """Every parameter at most MAX_LENGTH characters (parameter_limits.py); the error carries
    the state only when that is short."""
    try:
        check_parameter_lengths(parameters)
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        raise


def check_pushed_redirect_uri(client: Client, parameters: dict[str, Any]) -> None:
    """FAPI 2.0 §5.3.2.2: the authorization server "shall require the redirect_uri parameter
    in pushed authorization requests" (a profile's rule, profiles.py)."""
    if client.security_profile.pushed_redirect_uri and not parameters.get("redirect_uri"):
        raise InvalidRequestError("this client's pushed requests must give redirect_uri "
                                  "(FAPI 2.0 5.3.2.2)")


def check_max_age(parameters: dict[str, Any], redirect_uri: str) -> None:
    raw = parameters.get("max_age")
    if raw is not None and not is_ascii_digits(raw):
        # OIDC Core §3.1.2.1: a number of seconds; "²" passes str.isdigit() but is not one.
        raise InvalidRequestError("max_age must be a whole number of seconds",
                                  redirect_uri=redirect_uri, state=parameters.get("state"))


def check_with_authlib(server: Any, parameters: dict[str, Any], end_user: User | None) -> Any:
    """Authlib's grant validation: response_type, redirect_uri, scope (and resources, RFC
    8707), PKCE, nonce, prompt (with the user signed in now: prompt=none needs one)."""
    return server.get_consent_grant(oauth2_request(server.settings.issuer, parameters),
                                    end_user=end_user)


def check_claims(client: Client, parameters: dict[str, Any],
                 redirect_uri: str) -> dict[str, list[str]] | None:
    try:
        return parse_claims_request(parameters.get("claims"), client.scope)
    except OAuth2Error as error:
        error.redirect_uri, error.state = redirect_uri, parameters.get("state")
        raise


def check_requested_subject(parameters: dict[str, Any], redirect_uri: str) -> str | None:
    """The end-user the claims parameter asks for by `sub` value (OIDC Core §3.1.2.2)."""
    try:
        return requested_subject(parameters.get("claims"))
    except OAuth2Error as error:
        error.redirect_uri, error.state = redirect_uri, parameters.get("state")
        raise


def validate(server: Any, sent: Any,
             end_user_for: Callable[[dict[str, Any]], User | None]) -> ValidatedRequest:
    """Every step, for the browser's request to /oauth/authorize. `sent` is the query or form
    (a MultiDict); `end_user_for(parameters)` says who is signed in for this request (None
    when it asks for a new sign-in: prompt=login, max_age)."""
    check_single_values(sent)
    raw = sent_parameters(sent)
    client, redirect_uri = check_client_and_redirect(server, raw)
    check_lengths(sent, redirect_uri)
    parameters = resolve_request_object(server, raw, client, redirect_uri)
    client, redirect_uri = check_client_and_redirect(server, parameters)  # the object's own
    check_lengths(parameters, redirect_uri)
    check_pushed_if_required(server, client, raw, redirect_uri, parameters)
    check_max_age(parameters, redirect_uri)
    subject = check_requested_subject(parameters, redirect_uri)
    user = end_user_for(parameters)
    # §3.1.2.2: "MUST NOT reply with an ID Token or Access Token for a different user".
    another = user is not None and subject is not None and user.sub != subject
    grant = check_with_authlib(server, parameters, None if another else user)
    claims = check_claims(client, parameters, redirect_uri)
    validated_parameters = dict(grant.request.payload.data)
    return ValidatedRequest(
        client=client, parameters=validated_parameters, redirect_uri=redirect_uri,
        resources=list(grant.request.resources or []), claims=claims,
        consent_scope=_consent_scope(validated_parameters.get("scope"), claims),
        request_uri=raw.get("request_uri") if is_pushed(raw.get("request_uri")) else None,
        subject=subject, grant=grant, another_account_signed_in=another)


def validate_pushed(server: Any, client: Client, sent: dict[str, Any]) -> ValidatedRequest:
    """The same steps for a pushed request (RFC 9126 §2.1: "as it would an authorization
    request"), but for the client that authenticated, with nobody signed in yet, and every
    error answered to the client itself (it is the one calling)."""
    try:
        check_lengths(sent, None)
        client, redirect_uri = check_client_and_redirect(server, sent)
        parameters = resolve_request_object(server, sent, client, redirect_uri)
        client, redirect_uri = check_client_and_redirect(server, parameters)
        check_lengths(parameters, None)
        check_pushed_redirect_uri(client, parameters)
        check_max_age(parameters, redirect_uri)
        subject = check_requested_subject(parameters, redirect_uri)
        grant = server.get_authorization_grant(oauth2_request(server.settings.issuer, parameters))
        grant.validate_authorization_request()  # not the prompt: nobody is signed in here
        claims = check_claims(client, parameters, redirect_uri)
    except UnsafeRequest as problem:
        raise InvalidRequestError(problem.message) from None
    except (UnsupportedResponseTypeError, UnauthorizedClientError):
        # As /oauth/par has always answered these (RFC 9126 §2.3 allows either code).
        raise InvalidRequestError(
            "response_type must be code, for a client of that grant") from None
    except OAuth2Error as error:
        error.redirect_uri = None  # answered as JSON, not redirected
        raise
    return ValidatedRequest(
        client=client, parameters=parameters, redirect_uri=redirect_uri,
        resources=list(grant.request.resources or []), claims=claims,
        consent_scope=_consent_scope(parameters.get("scope"), claims), request_uri=None,
        subject=subject)


def _consent_scope(scope: str | None, claims: dict[str, list[str]] | None) -> str:
    # The consent covers the scopes of the claims asked for by name too.
    return " ".join(dict.fromkeys([*(scope_to_list(scope) or []), *sorted(scopes_for(claims))]))
