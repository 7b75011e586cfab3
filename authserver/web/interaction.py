"""/interaction/<id>: the steps of a pending authorization request, in the browser.

/oauth/authorize validates the request once (oauth/authorization_request.py) and, when the user
must do something, keeps it as an interaction bound to this browser and shows its first step.
Each step posts to a route of its own, which resumes the stored request without validating it
again: login (`/login`, or an upstream provider: web/federation.py), a second factor when the
user has one or the request needs one (`/code`, `/set-up`: interaction_factors.py, rules in
assurance.py), then consent (`/consent`); the answer to the client (a code, or access_denied)
ends the interaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from ..hashing import hash_secret
from ..models import Interaction, User
from ..oauth.authorization_request import ValidatedRequest
from ..oauth.claims_request import UnmetAuthenticationRequirements
from ..ops.security_headers import allow_form_redirect_to
from ..policy import ACR_PASSWORD
from .assurance import Verdict, reachable, verdict
from .consent_words import scope_groups
from .device_approval import KIND as DEVICE
from .device_approval import DeviceApproval
from .i18n import use_ui_locales
from .pages import page
from .passkey_ceremony import second_factor_offer, sign_in_offer
from .protocol import flask_response
from .second_factor import code_page, hold, set_up_page
from .session import another_account, browser_id, check_login, csrf_valid, finish_login, login_session

bp = Blueprint("interaction", __name__, url_prefix="/interaction")

def form_expired() -> str:
    return gettext("This form expired or did not come from this site. Please start again.")


def gone() -> str:
    return gettext("This sign-in page has expired or was already used. Go back to the "
                   "application and start again.")


def error_page(message: str, status: int = 400) -> Response:
    return page("error.html", status, message=message)


def error_redirect(error: OAuth2Error) -> Response:
    """An authorization error back to the client (with `state` and RFC 9207's `iss`), or a
    page when the error has nowhere safe to go."""
    status, _, headers = error()
    location = dict(headers).get("Location")
    if status != 302 or not location:
        return error_page(error.get_error_description() or error.error)
    server = context.oauth_server()
    response = Response(status=302, headers={"Location": location})
    server.issuer_parameter.add_issuer_parameter(server, response)
    return response


# A pending request: an authorization request, or a device's (device_approval.py).
Pending = ValidatedRequest | DeviceApproval


def consent_needed(validated: Pending, user: User) -> bool:
    """Unless prompt=consent, a consent the user gave this client before covers the request."""
    if "consent" in validated.prompts:
        return True
    consent = context.store().consents.find(user.id, validated.client.client_id)
    return consent is None or not consent.covers(validated.consent_scope)


def answer(validated: Pending, user: User, allowed: bool,
           interaction: Interaction | None = None) -> Response:
    """The code (or access_denied) for the client; remembers a consent given, spends the
    pushed request (RFC 9126 §4) and the interaction, all in the answer's transaction. A
    device's request is decided instead."""
    store = context.store()
    if interaction is not None and not store.interactions.end(interaction):
        return error_page(gone())  # a second submit of the same page
    if isinstance(validated, DeviceApproval):
        return validated.finish(user, allowed)
    if allowed:
        store.consents.remember(user.id, validated.client.client_id, validated.consent_scope)
    if validated.request_uri:
        store.pushed_requests.use(validated.request_uri)
    events.record("authorization.granted" if allowed else "authorization.denied",
                  client_id=validated.client.client_id, sub=user.sub,
                  scope=validated.parameters.get("scope"))
    return flask_response(context.oauth_server().authorization_response(
        validated, user if allowed else None, login_session()))


def start(validated: Pending, user: User | None) -> str:
    """Keeps a request the user must act on, bound to this browser; its id."""
    current = login_session()
    current_sid = current.sid if current is not None else None
    store = context.store()
    interaction_id = store.interactions.start(
        browser_id(), validated.client.client_id, validated.stored(),
        # The current sign-in satisfies the request, or the request asks for a new one.
        login_sid=current_sid if user is not None else None,
        stale_sid=current_sid if user is None else None)
    store.commit()
    return interaction_id


def factor_target(interaction_id: str) -> str:
    """What a held first factor is for (web/second_factor.py): this interaction."""
    return "interaction:" + hash_secret(interaction_id)[:32]


def unmet(validated: Pending) -> Response:
    """An essential acr this user cannot reach (OIDC Core §5.5.1.1)."""
    description = "the sign-in cannot reach the acr the request requires"
    if isinstance(validated, DeviceApproval):
        return error_page(gettext("This application needs a stronger sign-in than this "
                                  "account can make."))
    return error_redirect(UnmetAuthenticationRequirements(
        description, redirect_uri=validated.redirect_uri, state=validated.state))


def factor_step(interaction_id: str, validated: Pending, user: User, wanted: Verdict,
                error: str | None = None, status: int = 200) -> Response:
    """The second factor's page (or the app's set-up), for a first factor held already."""
    if wanted is Verdict.SET_UP:
        return set_up_page(user, url_for("interaction.set_up", interaction_id=interaction_id),
                           validated.client, error, status)
    return code_page(url_for("interaction.code", interaction_id=interaction_id),
                     validated.client, error, status, passkey=second_factor_offer(
                         user,
                         url_for("interaction.second_factor_options", interaction_id=interaction_id),
                         url_for("interaction.second_factor_passkey", interaction_id=interaction_id)))


def needs_more(interaction_id: str, validated: Pending, user: User,
               can: str | None = None) -> Response | None:
    """The signed-in user's sign-in is not enough for this request: the page of the factor it
    misses (a step-up), or the unmet error; None when it is enough. `can`: as verdict's."""
    current = login_session()
    amr = current.amr if current is not None else None
    wanted = verdict(validated, user, amr, can=can)
    if wanted is Verdict.MET:
        return None
    if wanted is Verdict.UNMET:
        return unmet(validated)
    hold(user, factor_target(interaction_id), amr, current.sid if current is not None else None)
    return factor_step(interaction_id, validated, user, wanted)


def show_step(interaction_id: str, validated: Pending, user: User | None,
              error: str | None = None, status: int = 200, *, enough: bool = False) -> Response:
    """The page of the step the interaction is at: login while nobody satisfies it, a second
    factor while the sign-in is not strong enough, else consent. `enough`: the caller found
    the sign-in enough for the request already (needs_more: each asking is a query)."""
    if validated.redirect_uri:
        allow_form_redirect_to(validated.redirect_uri)  # a step's form may end at the client
    use_ui_locales(validated.parameters.get("ui_locales"))  # OIDC Core §3.1.2.1
    if user is None:
        providers = [(name, url_for("federation.start", slug=slug, interaction=interaction_id))
                     for slug, name in context.store().idps.listed()]
        return page("login.html", status, client=validated.client, error=error,
                    providers=providers,
                    action=url_for("interaction.login", interaction_id=interaction_id),
                    passkey=sign_in_offer(
                        url_for("interaction.passkey_options", interaction_id=interaction_id),
                        url_for("interaction.passkey_sign_in", interaction_id=interaction_id)),
                    login_hint=request.form.get("username")
                    or validated.parameters.get("login_hint", ""))
    more = None if enough else needs_more(interaction_id, validated, user)
    if more is not None:
        return more
    return page("consent.html", status, client=validated.client, user=user,
                action=url_for("interaction.consent", interaction_id=interaction_id),
                scopes=scope_groups(validated.consent_scope))


def next_step(interaction_id: str, interaction: Interaction, validated: Pending,
              user: User, can: str | None = None) -> Response:
    more = needs_more(interaction_id, validated, user, can)
    if more is not None:
        return more
    if consent_needed(validated, user):
        return show_step(interaction_id, validated, user, enough=True)
    return answer(validated, user, True, interaction)


def _resume(interaction_id: str) -> tuple[Interaction, Pending] | Response:
    store = context.store()
    interaction = store.interactions.find(interaction_id, browser_id())
    if interaction is None:
        return error_page(gone())
    client = store.clients.get(interaction.client_id)
    if client is None:
        return error_page(gettext("The application of this sign-in is no longer registered here."))
    kind = DeviceApproval if interaction.request.get("kind") == DEVICE else ValidatedRequest
    validated = kind.restored(client, interaction.request)
    use_ui_locales(validated.parameters.get("ui_locales"))  # before any words of this step
    return interaction, validated


def user_of(interaction: Interaction, validated: Pending) -> User | None:
    """Who is signed in for this interaction: the sign-in that satisfied the request when it
    came, or, when it asked for a new one, a sign-in made since (its login step), while that
    sign-in lasts; only the end-user the request asked for, if it named one."""
    current = login_session()
    if current is None:
        return None
    if interaction.login_sid is not None:
        satisfied = current.sid == interaction.login_sid
    else:
        satisfied = (current.sid != interaction.stale_sid
                     and current.auth_time >= interaction.created_at)
    if validated.subject is not None and current.user.sub != validated.subject:
        satisfied = False
    return current.user if satisfied else None


Step = Callable[[str, Interaction, Pending], Response]


def step(*, posted: bool) -> Callable[[Step], Callable[[str], ResponseReturnValue]]:
    """A step's view: called with this browser's interaction and its stored request, or
    answered by the page that says it is gone; a posted step needs the session's CSRF token."""
    def wrap(view: Step) -> Callable[[str], ResponseReturnValue]:
        @functools.wraps(view)
        def resumed(interaction_id: str) -> ResponseReturnValue:
            found = _resume(interaction_id)
            if isinstance(found, Response):
                return found
            if posted and not csrf_valid(request.form.get("csrf_token")):
                return error_page(form_expired())
            return view(interaction_id, *found)
        return resumed
    return wrap


@bp.get("/<interaction_id>")
@step(posted=False)
def show(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    return show_step(interaction_id, validated, user_of(interaction, validated))


@bp.post("/<interaction_id>/login")
@step(posted=True)
def login(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    user, login_error = check_login(validated.subject)
    if user is None:
        return show_step(interaction_id, validated, None, login_error, 401)
    # The password alone signs in only a user who has no second factor and needs none.
    can = reachable(user)
    wanted = verdict(validated, user, None, can=can)
    if wanted is Verdict.UNMET:
        return unmet(validated)
    if wanted is Verdict.MET and can == ACR_PASSWORD:
        finish_login(user)  # (which changes no factor: `can` still holds)
        return next_step(interaction_id, interaction, validated, user, can)
    hold(user, factor_target(interaction_id))
    return factor_step(interaction_id, validated, user,
                       Verdict.SET_UP if wanted is Verdict.SET_UP else Verdict.ASK)


def continue_signed_in(interaction_id: str, user: User) -> Response:
    """After a sign-in made elsewhere (an upstream provider's callback): the interaction's
    next step, as after its login form."""
    resumed = _resume(interaction_id)
    if isinstance(resumed, Response):
        return resumed
    interaction, validated = resumed
    if user_of(interaction, validated) is None:  # the request asked for another end-user
        return show_step(interaction_id, validated, None, another_account(), 401)
    return next_step(interaction_id, interaction, validated, user)


@bp.post("/<interaction_id>/consent")
@step(posted=True)
def consent(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    user = user_of(interaction, validated)
    if user is None:  # the sign-in ended meanwhile (logout, another tab, a password change)
        return show_step(interaction_id, validated, None)
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return error_page(gettext("Unknown decision."))
    if decision == "allow":
        more = needs_more(interaction_id, validated, user)  # no consent skips a factor
        if more is not None:
            return more
    return answer(validated, user, decision == "allow", interaction)
