"""/login/idp/<slug>: signing in through another OpenID provider, a step of the sign-in.

The login page links here with the interaction it continues (`?interaction=`); linking another
provider from /account posts here instead. The browser goes to the provider with a fresh
state, nonce and PKCE verifier (stored server-side, bound to this browser, spent by the first
callback); the callback redeems the code (oauth/upstream.py), finds the local account
(store/federated_accounts.py) and goes on with the interaction as a password login would.
Whatever goes wrong upstream ends on a page that says so, with nothing created.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from .. import context, events
from ..keystore import KeyStoreError
from ..models import IdentityProvider, UpstreamSignIn, User
from ..oauth.upstream import Upstream, UpstreamError, provider_keys
from ..policy import AMR_FEDERATED
from ..store.federated_accounts import Outcome, resolve
from ..store.idps import client_secret_of
from .assurance import Verdict, account_verdict
from .interaction import continue_signed_in, gone
from .pages import page
from .passkey_ceremony import relying_party
from .session import browser_id, csrf_valid, login_session, sign_in

bp = Blueprint("federation", __name__, url_prefix="/login/idp")



def problem(message: str, idp: IdentityProvider | None = None, back: str | None = None,
            status: int = 400) -> Response:
    return page("federation_error.html", status, message=message, back=back,
                provider=idp.name if idp is not None else None)


def redirect_uri(idp: IdentityProvider) -> str:
    return f"{context.settings().issuer}/login/idp/{idp.slug}/callback"


def upstream_of(idp: IdentityProvider) -> Upstream:
    settings = context.settings()
    return Upstream(
        issuer=idp.issuer, client_id=idp.client_id, scope=idp.scope, discovery=idp.discovery,
        client_secret=client_secret_of(idp, settings.keys_passphrase),
        keys=provider_keys(idp.issuer, idp.discovery["jwks_uri"], settings.upstream_timeout),
        timeout=settings.upstream_timeout, leeway=settings.leeway)


def _go_upstream(idp: IdentityProvider, interaction_id: str | None,
                 link_user_id: int | None) -> BaseResponse:
    try:
        upstream = upstream_of(idp)
    except KeyStoreError:
        return problem(gettext("%(name)s cannot be used: its client secret cannot be opened "
                               "here (AUTHSERVER_KEYS_PASSPHRASE).", name=idp.name),
                       idp, status=500)
    started = context.store().idps.start_sign_in(
        idp, browser_id(), interaction_id=interaction_id, link_user_id=link_user_id)
    url = upstream.authorization_url(redirect_uri(idp), state=started.state,  # type: ignore[attr-defined]
                                     nonce=started.nonce, code_verifier=started.code_verifier)
    return redirect(url, 303)


@bp.get("/<slug>")
def start(slug: str) -> ResponseReturnValue:
    """From the login page: `interaction` says which sign-in this continues."""
    idp = context.store().idps.by_slug(slug)
    if idp is None:
        return problem(gettext("There is no such sign-in provider here."), status=404)
    interaction_id = request.args.get("interaction", "")
    if context.store().interactions.find(interaction_id, browser_id()) is None:
        return problem(gone(), idp)
    return _go_upstream(idp, interaction_id, None)


@bp.post("/<slug>/link")
def link(slug: str) -> ResponseReturnValue:
    """From /account: link this provider's identity to the signed-in user."""
    idp = context.store().idps.by_slug(slug)
    if idp is None:
        return problem(gettext("There is no such sign-in provider here."), status=404)
    current = login_session()
    if (current is None or not csrf_valid(request.form.get("csrf_token"))
            or account_verdict(current.user, current.amr) is not Verdict.MET):
        return problem(gettext("This form expired or you are no longer signed in. Please start "
                               "again."),
                       idp)
    return _go_upstream(idp, None, current.user.id)


@bp.get("/<slug>/callback")
def callback(slug: str) -> ResponseReturnValue:
    store = context.store()
    idp = store.idps.by_slug(slug)
    if idp is None:
        return problem(gettext("There is no such sign-in provider here."), status=404)
    started = store.idps.spend_sign_in(request.args.get("state", ""), browser_id(), idp)
    if started is None:  # forged, replayed, expired, or from another browser
        return problem(gettext("This answer from %(name)s is not one this browser is waiting "
                               "for (it was already used, has expired, or was started "
                               "elsewhere). Please start again.", name=idp.name), idp)
    back = (url_for("interaction.show", interaction_id=started.interaction_id)
            if started.interaction_id else None)
    error = request.args.get("error")
    if error is not None or not request.args.get("code"):
        events.record("login.refused", "upstream_error", idp=idp.slug, error=error)
        message = (gettext("You did not allow %(name)s to sign you in here.", name=idp.name)
                   if error == "access_denied" else
                   gettext("%(name)s did not sign you in (%(error)s).", name=idp.name,
                           error=error or "no code"))
        return problem(message, idp, back)
    try:
        claims = upstream_of(idp).redeem(
            request.args["code"], redirect_uri(idp), code_verifier=started.code_verifier,
            nonce=started.nonce, now=store.now())
    except (UpstreamError, KeyStoreError) as exc:
        events.record("login.refused", "upstream_error", idp=idp.slug, error=str(exc))
        return problem(gettext("Signing in with %(name)s did not work: %(problem)s",
                               name=idp.name, problem=str(exc)), idp, back, 502)
    if started.link_user_id is not None:
        return _link(idp, started, claims["sub"])
    user, outcome = resolve(store, idp, claims)
    if user is None or outcome is Outcome.NO_ACCOUNT:
        events.record("login.refused", "no_account", idp=idp.slug)
        return problem(gettext("There is no account here for your %(name)s identity, and this "
                               "server does not create accounts for it. Ask the administrator "
                               "for one.", name=idp.name), idp, back, 403)
    if outcome is not Outcome.LINKED:
        events.record("account.linked", outcome.value, sub=user.sub, idp=idp.slug)
    store.commit()
    sign_in(user, " ".join(AMR_FEDERATED))
    events.record("login.succeeded", sub=user.sub, address=request.remote_addr or "-",
                  idp=idp.slug)
    return continue_signed_in(started.interaction_id or "", user)


def _account_page() -> str | None:
    """/account, once the account pages are installed (they come with the accounts work)."""
    return url_for("account.show") if "account.show" in current_app.view_functions else None


def _link(idp: IdentityProvider, started: UpstreamSignIn, sub: str) -> BaseResponse:
    store = context.store()
    current = login_session()
    account = _account_page()
    if current is None or current.user.id != started.link_user_id:
        return problem(gettext("You are no longer signed in as the account this link was for."),
                       idp, account)
    owner = store.idps.linked_user(idp, sub)
    if owner is not None and owner.id != current.user.id:
        return problem(gettext("This %(name)s identity is already linked to another account.",
                               name=idp.name), idp, account)
    if owner is None:
        store.idps.link(current.user, idp, sub)
        store.commit()
        events.record("account.linked", "linked", sub=current.user.sub, idp=idp.slug)
    return redirect(account or "/", 303)


@bp.post("/<slug>/unlink")
def unlink(slug: str) -> ResponseReturnValue:
    """From /account: unlink this provider, unless it is the user's last way to sign in."""
    store = context.store()
    idp = store.idps.by_slug(slug)
    current = login_session()
    if (idp is None or current is None or not csrf_valid(request.form.get("csrf_token"))
            or account_verdict(current.user, current.amr) is not Verdict.MET):
        return problem(gettext("This form expired or you are no longer signed in. Please start "
                               "again."),
                       idp)
    if not store.idps.unlink(current.user, idp, passkeys_work=relying_party() is not None):
        return problem(gettext("%(name)s is your only way to sign in here: set a password or "
                               "link another provider first.", name=idp.name),
                       idp, _account_page())
    store.commit()
    events.record("account.unlinked", sub=current.user.sub, idp=idp.slug)
    return redirect(_account_page() or "/", 303)


def linked_identities(user: User) -> dict[str, object]:
    """What the account page's linked-providers block (templates/_linked_identities.html)
    shows: the user's links, the providers not linked yet, and whether unlinking is allowed."""
    store = context.store()
    linked = store.idps.linked(user)
    linked_ids = {identity.idp_id for identity in linked}
    return {"linked": [(i.idp.slug, i.idp.name) for i in linked],
            "linkable": [(idp.slug, idp.name) for idp in store.idps.all()
                         if idp.id not in linked_ids],
            "can_unlink": bool(user.password_hash) or len(linked) > 1
            or (relying_party() is not None and store.passkeys.count(user) > 0)}
