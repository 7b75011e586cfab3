"""The browser side of the code flow: /oauth/authorize (login, consent, code).

Errors that cannot safely go back to the client (unknown client, unregistered redirect_uri)
are shown as a page and never redirected (RFC 6749 §4.1.2.1); every other error goes back to
the client's redirect_uri, with `state` and `iss` (RFC 9207).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oidc.core.errors import ConsentRequiredError
from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from .. import context, events
from ..models import Client, User
from ..oauth.claims_request import parse_claims_request, requested_subject, scopes_for
from ..oauth.request_objects import authorization_parameters, sent_parameters
from ..ops.security_headers import allow_form_redirect_to
from ..resource_server.keys import is_ascii_digits
from ..store.pushed_requests import is_pushed
from .pages import page
from .session import (
    ANOTHER_ACCOUNT,
    auth_time,
    csrf_valid,
    login_session,
    signed_in_user,
    try_login,
)

bp = Blueprint("authorize", __name__, url_prefix="/oauth")

# What each scope lets the client do, in the words the consent page shows.
SCOPE_WORDS = {
    "openid": "Know who you are when you sign in",
    "profile": "See your username, name and profile details",
    "email": "See your email address",
    "address": "See your postal address",
    "phone": "See your phone number",
    "offline_access": "Keep access while you are away (refresh tokens)",
    "groups": "See the groups you belong to",
}


def scope_groups(scope: str) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """The consent page's list: the OpenID scopes in our words, then each API by name with its
    scopes' descriptions (the operator's text: Jinja escapes it)."""
    registry = context.store().apis.registry()
    groups: dict[str | None, list[tuple[str, str]]] = {}
    for name in scope_to_list(scope) or []:
        api = registry.owner(name)
        words = SCOPE_WORDS.get(name) if api is None else registry.description(name)
        groups.setdefault(api.name if api else None, []).append((name, words or name))
    return list(groups.items())


# Fields of our own pages' forms; everything else posted here is the authorization request.
PAGE_FIELDS = frozenset({"csrf_token", "username", "password", "decision", "signed_in_at"})


def _params() -> Any:
    """The authorization request's parameters: the query of a GET, the form of a POST
    (OIDC Core §3.1.2.1: both MUST be supported); the login and consent forms post back to
    the same URL, so they come as the query plus our own fields. Once a request object is
    verified, its claims are the parameters instead (oauth/request_objects.py)."""
    if "authorization_parameters" in g:
        return authorization_parameters()
    return request.values


def _carried() -> list[tuple[str, str]]:
    """A request that came as a form POST has no query for our forms to post back to: the
    pages carry its parameters as hidden fields instead."""
    return [(k, v) for k, v in request.form.items(multi=True) if k not in PAGE_FIELDS]


def _page(template: str, status: int = 200, **context: Any) -> Response:
    client: Client | None = context.get("client")
    if client is not None:
        allow_form_redirect_to(_redirect_target(client))
    return page(template, status, carried=_carried(), **context)


def _error_page(message: str, status: int = 400) -> Response:
    return _page("error.html", status, message=message)


def _unsafe_redirect_problem() -> tuple[Client | None, str | None]:
    """The errors that must not redirect: without a known client and a registered redirect_uri
    we would be an open redirector."""
    client_id = _params().get("client_id")
    if not client_id:
        return None, "The request has no client_id."
    client = context.store().clients.get(client_id)
    if client is None:
        return None, "This application is not registered here (unknown client_id)."
    redirect_uri = _params().get("redirect_uri")
    if redirect_uri is None and client.get_default_redirect_uri() is None:
        return client, "The request has no redirect_uri, and this application registered several."
    if redirect_uri is not None and not client.check_redirect_uri(redirect_uri):
        return client, "The redirect_uri is not registered for this application."
    return client, None


def _error_redirect(error: OAuth2Error) -> Response:
    status, _, headers = error()
    location = dict(headers).get("Location")
    if status != 302 or not location:
        return _error_page(error.get_error_description() or error.error)
    server = context.oauth_server()
    response = Response(status=302, headers={"Location": location})
    server.issuer_parameter.add_issuer_parameter(server, response)
    return response


def _max_age() -> int | None:
    raw = _params().get("max_age")  # checked by authorize() already
    return int(raw) if raw is not None and is_ascii_digits(raw) else None


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    """The steps, each below: a client we may redirect to, a form that is ours, who is signed
    in, Authlib's validation of the request, then login, consent, and the code."""
    repeated = _repeated_parameter()
    if repeated:
        # RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
        return _error_page(f"The request gives the parameter {repeated!r} more than once.")
    client, problem = _unsafe_redirect_problem()
    if client is None:
        return _error_page(problem or "Unknown client.")
    try:
        server = context.oauth_server()
        g.authorization_parameters = server.request_objects.parameters(
            server, _raw_parameters(), client)
    except OAuth2Error as error:
        # RFC 9101 §6.3: back to the redirect_uri given outside the object, if it is safe.
        if problem:
            return _error_page(error.get_error_description() or error.error)
        error.redirect_uri = _redirect_target(client)
        error.state = error.state or request.values.get("state")
        return _error_redirect(error)
    client, problem = _unsafe_redirect_problem()  # the object's client_id and redirect_uri
    if problem or client is None:
        return _error_page(problem or "Unknown client.")
    if ((client.require_par or context.settings().require_par)
            and not is_pushed(request.values.get("request_uri"))):
        # RFC 9126 §6: this client's requests come only by /oauth/par.
        return _error_redirect(InvalidRequestError(
            "authorization requests of this client must be pushed (/oauth/par)",
            redirect_uri=_redirect_target(client), state=_params().get("state")))
    # Our own forms must come from our pages; the authorization request itself (GET or POST,
    # sent by the client's page) carries no CSRF token, as it changes nothing by itself.
    if not PAGE_FIELDS.isdisjoint(request.form) and not csrf_valid(request.form.get("csrf_token")):
        return _error_page("This form expired or did not come from this site. Please start again.")
    max_age = _params().get("max_age")
    if max_age is not None and not is_ascii_digits(max_age):
        # OIDC Core §3.1.2.1: a number of seconds; "²" passes str.isdigit() but is not one.
        return _error_redirect(InvalidRequestError(
            "max_age must be a whole number of seconds", redirect_uri=_redirect_target(client),
            state=_params().get("state")))
    prompts = set((_params().get("prompt") or "").split())
    try:
        only_sub = requested_subject(_params().get("claims"))
    except OAuth2Error as error:
        error.redirect_uri, error.state = _redirect_target(client), _params().get("state")
        return _error_redirect(error)
    user, login_error = _signed_in_user(prompts, only_sub)
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error_redirect(error) if error.redirect_uri else _error_page(error.get_error_description())
    try:
        claims = parse_claims_request(_params().get("claims"), client.scope)
    except OAuth2Error as error:
        error.redirect_uri, error.state = _redirect_target(client), _params().get("state")
        return _error_redirect(error)
    if user is None:
        failed = login_error is not None and "username" in request.form
        return _page("login.html", 401 if failed else 200, client=client, error=login_error,
                     login_hint=request.form.get("username") or _params().get("login_hint", ""))
    grant.request.requested_claims = claims
    # The consent covers the scopes of the claims asked for by name too.
    consent_scope = " ".join(dict.fromkeys(
        [*(scope_to_list(grant.request.scope) or []), *sorted(scopes_for(claims))]))
    decision = _decision(user, client, consent_scope, prompts)
    if isinstance(decision, Response):
        return decision
    return _answer(server, grant, user, client, consent_scope, decision == "allow")


# RFC 8707 §2: the one parameter an authorization request may repeat.
REPEATABLE = frozenset({"resource"})


def _repeated_parameter() -> str | None:
    params = _params()
    return next((name for name in params
                 if name not in REPEATABLE and len(params.getlist(name)) > 1), None)


def _raw_parameters() -> dict[str, Any]:
    return sent_parameters(request.values)


def _signed_in_user(prompts: set[str], only_sub: str | None) -> tuple[User | None, str | None]:
    """The user of a login form just posted, else the session's (unless prompt=login, or the
    sign-in is older than max_age); with the login page's error, if any. The consent page
    shown right after a sign-in names that sign-in (`signed_in_at`): its decision is taken
    for the same user, or prompt=login and max_age=0 would ask for the password for ever.
    `only_sub`: the request asks for that end-user; another counts as no one signed in."""
    if "username" in request.form:
        return try_login(only_sub)
    if "decision" in request.form and request.form.get("signed_in_at") == str(auth_time()):
        user = signed_in_user()
    elif "login" in prompts:
        return None, None
    else:
        user = signed_in_user(_max_age())
    if user is not None and only_sub is not None and user.sub != only_sub:
        return None, ANOTHER_ACCOUNT
    return user, None


def _decision(user: User, client: Client, scope: str, prompts: set[str]) -> str | Response:
    """"allow" or "deny": posted on the consent page, or remembered; else the consent page
    (or consent_required for prompt=none)."""
    decision = request.form.get("decision")
    if decision in ("allow", "deny"):
        return decision
    if decision is not None:
        return _error_page("Unknown decision.")
    consent = context.store().consents.find(user.id, client.client_id)
    if consent is not None and consent.covers(scope) and "consent" not in prompts:
        return "allow"
    if "none" in prompts:
        return _error_redirect(ConsentRequiredError(
            redirect_uri=_redirect_target(client), state=_params().get("state")))
    return _page("consent.html", client=client, user=user, scopes=scope_groups(scope),
                 signed_in_at=auth_time())


def _answer(server: Any, grant: Any, user: User, client: Client, consent_scope: str,
            allowed: bool) -> Response:
    scope: str = grant.request.scope
    store = context.store()
    if allowed:
        store.consents.remember(user.id, client.client_id, consent_scope)
    if is_pushed(request.values.get("request_uri")):
        store.pushed_requests.use(request.values["request_uri"])  # single use (RFC 9126 §4)
    grant.request.login_session = login_session()
    events.record("authorization.granted" if allowed else "authorization.denied",
                  client_id=client.client_id, sub=user.sub, scope=scope)
    return server.create_authorization_response(  # type: ignore[no-any-return]
        request=grant.request, grant_user=user if allowed else None, grant=grant)


def _redirect_target(client: Client) -> str:
    return _params().get("redirect_uri") or client.get_default_redirect_uri() or ""
