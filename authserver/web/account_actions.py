"""The account page's forms: change the password, change the email address, end sign-ins,
take back an app's access. Each checks the CSRF token and the sign-in, is audited, and answers
with the account page again (a refused form with its error beside the field, status 4xx)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from ..models import VERIFY_EMAIL, User
from ..store.user_claims import PARSERS, ClaimError
from ..store.users import AccountError, check_password
from . import mails
from .account import account_page, account_user, bp
from .account_links import password_rules
from .forms import caller_address, csrf_ok, form_expired, throttled_mail
from .session import login_session, sign_in
from .wording import wait_words

THROTTLE_KIND = "user"  # a wrong current password counts as a failed sign-in


def account_form(view: Callable[[User], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
    """Signed in (else to the sign-in page) and the form's CSRF token valid."""

    @wraps(view)
    def checked() -> ResponseReturnValue:
        user = account_user()
        if user is None:
            return redirect(url_for("account.login"), 303)
        if not csrf_ok():
            return account_page(user, 400, error=form_expired())
        return view(user)

    return checked


def done(message: str) -> ResponseReturnValue:
    flash(message)
    return redirect(url_for("account.show"), 303)


@bp.post("/password")
@account_form
def change_password(user: User) -> ResponseReturnValue:
    throttle, address = context.throttle(), caller_address()
    wait = throttle.retry_after(THROTTLE_KIND, user.username, address)
    if wait:
        return account_page(user, 429, errors={"current_password": gettext(
            "Too many failed sign-ins. Try again in %(wait)s.", wait=wait_words(wait))})
    new_password = request.form.get("new_password", "")
    store = context.store()
    if store.users.authenticate(user.username, request.form.get("current_password", "")) is None:
        throttle.failed(THROTTLE_KIND, user.username, address)
        events.record("account.password_changed", "wrong_password", sub=user.sub)
        return account_page(user, 400, errors={
            "current_password": gettext("This is not your current password.")})
    try:
        check_password(new_password)
    except AccountError:
        return account_page(user, 400, errors={"new_password": password_rules()})
    current = login_session()
    amr = current.amr if current is not None else None
    revoked = store.self_service.set_password(user, new_password)  # ends every sign-in
    store.commit()
    sign_in(user, amr)  # ...but this one goes on, as a new sign-in with the same factors
    events.record("account.password_changed", sub=user.sub, grants_revoked=revoked,
                  address=address)
    return done(gettext("Your password was changed. You were signed out everywhere else."))


@bp.post("/email")
@account_form
def change_email(user: User) -> ResponseReturnValue:
    if mails.mailer() is None:
        return account_page(user, 404)
    email = request.form.get("email", "").strip()
    try:
        PARSERS["email"]("email", email)
    except ClaimError:
        return account_page(user, 400, errors={
            "email": gettext("Enter an email address such as name@example.com.")})
    too_many = throttled_mail("account.email_change_asked", email)
    if too_many:
        return account_page(user, 429, errors={"email": too_many})
    store = context.store()
    token = store.account_links.issue(user, VERIFY_EMAIL, email, context.settings().email_token_ttl)
    store.commit()
    mails.verify_email(email, user.username, token)
    events.record("account.email_change_asked", sub=user.sub, address=caller_address())
    return done(gettext("We sent a link to %(email)s. Your address changes when you open it.",
                        email=email))


@bp.post("/sessions/end")
@account_form
def end_session(user: User) -> ResponseReturnValue:
    sid = request.form.get("sid", "")
    ended = context.store().self_service.end_sessions(user, only_sid=sid) if sid else 0
    context.store().commit()
    if not ended:
        return account_page(user, 404, error=gettext("That sign-in has already ended."))
    events.record("account.session_ended", sub=user.sub, sessions=ended)
    current = login_session()
    if current is not None and current.sid == sid:
        return redirect(url_for("account.login"), 303)
    return done(gettext("That sign-in was ended."))


@bp.post("/sessions/end-others")
@account_form
def end_other_sessions(user: User) -> ResponseReturnValue:
    current = login_session()
    store = context.store()
    ended = store.self_service.end_sessions(user, except_sid=current.sid if current else None)
    store.commit()
    events.record("account.session_ended", sub=user.sub, sessions=ended, others=True)
    return done(gettext("You were signed out everywhere else."))


@bp.post("/apps/revoke")
@account_form
def revoke_app(user: User) -> ResponseReturnValue:
    client_id = request.form.get("client_id", "")
    store = context.store()
    if not store.self_service.revoke_app(user, client_id):
        return account_page(user, 404, error=gettext("That app has no access to take back."))
    store.commit()
    events.record("account.consent_revoked", sub=user.sub, client_id=client_id)
    return done(gettext("The app's access was taken back."))
