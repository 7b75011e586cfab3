"""/account: a signed-in person's own page (who they are, sign-ins, apps; the forms of
web/account_actions.py), and /account/login, its plain sign-in (not an OAuth interaction).

Every page is no-store and not framable (ops/security_headers.py); every form posts the CSRF
token. Linked sign-in providers come from web/federation.py; passkeys are added, named and
removed by web/account_passkeys.py; the authenticator app's set-up and removal are
web/account_mfa.py's. A user with a second factor is asked for it after the password here too
(web/second_factor.py); with AUTHSERVER_REQUIRE_MFA, a one-factor sign-in made elsewhere is
stepped up at /account/login before any account page (web/assurance.py, `account_verdict`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, get_flashed_messages, redirect, request, url_for
from flask.typing import ResponseReturnValue

from .. import context, events
from ..models import User
from ..operations import mfa
from ..policy import AMR_OTP
from .assurance import Verdict, account_verdict, second_step_due
from .browser_words import browser_name
from .federation import linked_identities
from .forms import csrf_ok, form_expired
from .pages import page
from .passkey_ceremony import (
    relying_party,
    second_factor_offer,
    sign_in_offer,
    unavailable_reason,
    use_scripts,
)
from .recent_sign_in import recent
from .second_factor import (
    check_code,
    code_page,
    complete,
    confirm_set_up,
    held,
    hold,
    set_up_page,
)
from .session import check_login, finish_login, login_session, signed_in_user

bp = Blueprint("account", __name__, url_prefix="/account")


def when(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def account_page(user: User, status: int = 200, **values: Any) -> Response:
    """The account page, with a form's errors (`errors`, by field) when one was refused."""
    store = context.store()
    current = login_session()
    sessions = [{
        "sid": s.sid, "current": current is not None and s.sid == current.sid,
        "started": when(s.auth_time), "last_used": when(s.last_used_at or s.auth_time),
        "address": s.address, "browser": browser_name(s.user_agent),
    } for s in store.self_service.sessions(user)]
    apps = [{"client_id": client.client_id, "name": client.name, "scopes": consent.scope.split()}
            for client, consent in store.self_service.apps(user)]
    return page("account.html", status, user=user, sessions=sessions, apps=apps,
                two_factor=mfa.factors(store.session(), user),
                notices=get_flashed_messages(), errors=values.pop("errors", {}),
                recent_sign_in=recent(),
                **linked_identities(user), **passkeys_block(user), **values)


def passkeys_block(user: User) -> dict[str, Any]:
    """What the account page shows of passkeys: the list, or why they cannot work here."""
    if relying_party() is None:
        return {"passkeys_unavailable": unavailable_reason(), "passkeys": []}
    use_scripts()
    return {"passkeys_unavailable": None, "passkeys": [{
        "id": p.id, "name": p.name, "created": when(p.created_at),
        "last_used": when(p.last_used_at)} for p in context.store().passkeys.of_user(user)]}


def account_user() -> User | None:
    """The signed-in user, when their sign-in is enough for the account pages (else the
    sign-in page steps it up)."""
    user = signed_in_user()
    current = login_session()
    if user is None or current is None or account_verdict(user, current.amr) is not Verdict.MET:
        return None
    return user


@bp.get("")
def show() -> ResponseReturnValue:
    user = account_user()
    if user is None:
        return redirect(url_for("account.login"), 303)
    return account_page(user)


def login_page(status: int = 200, error: str | None = None) -> Response:
    return page("login.html", status, client=None, action=url_for("account.login"), error=error,
                login_hint=request.form.get("username", ""),
                passkey=sign_in_offer(url_for("account.account_passkey_options"),
                                      url_for("account.account_passkey_sign_in")))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        current = login_session()
        if current is None:
            return login_page()
        wanted = account_verdict(current.user, current.amr)
        if wanted is Verdict.MET:
            return redirect(url_for("account.show"), 303)
        # A one-factor sign-in made elsewhere: its second factor, raised in place (a step-up).
        hold(current.user, ACCOUNT_SIGN_IN, current.amr, current.sid)
        return factor_page(current.user, wanted)
    if not csrf_ok():
        return login_page(400, form_expired())
    user, error = check_login()
    if user is None:
        return login_page(401, error)
    wanted = account_verdict(user, None)
    if wanted is Verdict.MET and not second_step_due(user):
        finish_login(user)
        events.record("account.signed_in", sub=user.sub)
        return redirect(url_for("account.show"), 303)
    hold(user, ACCOUNT_SIGN_IN)
    return factor_page(user, Verdict.SET_UP if wanted is Verdict.SET_UP else Verdict.ASK)


def factor_page(user: User, wanted: Verdict) -> Response:
    """The second step: the factor the user has, or (two factors required, none held) the
    authenticator app's set-up."""
    if wanted is Verdict.SET_UP:
        return set_up_page(user, url_for("account.login_set_up"))
    return code_page(url_for("account.login_code"), passkey=account_passkey_offer(user))


def account_passkey_offer(user: User) -> dict[str, Any] | None:
    return second_factor_offer(user, url_for("account.account_second_factor_options"),
                               url_for("account.account_second_factor_passkey"))


ACCOUNT_SIGN_IN = "account"  # what the held password is for (web/second_factor.py)


@bp.post("/login/code")
def login_code() -> ResponseReturnValue:
    """The second step of the account's own sign-in."""
    pending = held(ACCOUNT_SIGN_IN)
    if not csrf_ok() or pending is None:
        return login_page(400, form_expired())
    factor, error = check_code(pending)
    if factor is None:
        return code_page(url_for("account.login_code"), error=error, status=400,
                         passkey=account_passkey_offer(pending.user))
    complete(pending, factor)
    events.record("account.signed_in", sub=pending.user.sub)
    return redirect(url_for("account.show"), 303)


@bp.post("/login/set-up")
def login_set_up() -> ResponseReturnValue:
    """AUTHSERVER_REQUIRE_MFA and a user without a second factor: the app's first code signs
    in (with both factors), then the recovery codes are shown once."""
    pending = held(ACCOUNT_SIGN_IN)
    if not csrf_ok() or pending is None:
        return login_page(400, form_expired())
    codes, error = confirm_set_up(pending.user)
    if codes is None:
        return set_up_page(pending.user, url_for("account.login_set_up"), error=error, status=400)
    complete(pending, (AMR_OTP,))
    events.record("account.signed_in", sub=pending.user.sub)
    return page("recovery_codes.html", codes=codes, action=None)
