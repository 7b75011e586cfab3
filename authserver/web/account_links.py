"""The mailed links and the forgotten-password form: /account/verify, /account/forgot,
/account/reset.

The forgotten-password answer is the same whether or not an account has the address; a link
that was used, expired, voided by a newer one (or a password change) or never existed says
which, plainly.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context, events
from ..models import RESET_PASSWORD, VERIFY_EMAIL
from ..store.account_links import EXPIRED, USED, VOIDED
from ..store.users import AccountError, check_password
from . import mails
from .forms import caller_address, csrf_ok, form_expired, throttled_mail
from .pages import page

bp = Blueprint("account_links", __name__, url_prefix="/account")


def link_problem(problem: str | None) -> Response:
    words = {
        USED: gettext("This link was already used. Each link works once."),
        EXPIRED: gettext("This link has expired. Ask for a new one."),
        VOIDED: gettext("This link was replaced by a newer one (or your password changed "
                        "since). Use the link in the most recent mail."),
    }.get(problem or "", gettext("This link is not valid. Check that you copied all of it."))
    return page("link_problem.html", 400, message=words)


@bp.get("/verify")
def verify() -> ResponseReturnValue:
    store = context.store()
    link, problem = store.account_links.use(request.args.get("token", ""), VERIFY_EMAIL)
    if link is None:
        events.record("account.email_verified", "refused", reason=problem)
        return link_problem(problem)
    store.self_service.verify_email(link.user, link.email)
    store.commit()
    events.record("account.email_verified", sub=link.user.sub)
    return page("verified.html", email=link.email)


def _require_mail() -> None:
    if mails.mailer() is None:
        abort(404)  # no mail, nothing to offer


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    _require_mail()
    if request.method == "GET":
        return page("forgot.html")
    if not csrf_ok():
        return page("forgot.html", 400, error=form_expired())
    email = request.form.get("email", "").strip()
    if "@" not in email or len(email) > 320:
        return page("forgot.html", 400, email=email,
                    errors={"email": gettext("Enter the email address of your account.")})
    too_many = throttled_mail("account.reset_asked", email)
    if too_many:
        return page("forgot.html", 429, email=email, error=too_many)
    store = context.store()
    users = store.self_service.by_email(email)
    if not users:
        events.record("account.reset_asked", "unknown_email", address=caller_address())
    for user in users:
        token = store.account_links.issue(user, RESET_PASSWORD, user.email or email,
                                          context.settings().reset_token_ttl)
        store.commit()
        mails.reset_password(user.email or email, user.username, token)
        events.record("account.reset_asked", sub=user.sub, address=caller_address())
    return page("check_email.html", email=email)


@bp.get("/reset")
def reset_form() -> ResponseReturnValue:
    token = request.args.get("token", "")
    link, problem = context.store().account_links.check(token, RESET_PASSWORD)
    if link is None:
        return link_problem(problem)
    return page("reset.html", token=token, username=link.user.username)


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    token = request.form.get("token", "")
    store = context.store()
    link, problem = store.account_links.check(token, RESET_PASSWORD)
    if link is None:
        return link_problem(problem)
    if not csrf_ok():
        return page("reset.html", 400, token=token, username=link.user.username,
                    error=form_expired())
    password = request.form.get("password", "")
    try:
        check_password(password)
    except AccountError:
        return page("reset.html", 400, token=token, username=link.user.username,
                    errors={"password": password_rules()})
    link, problem = store.account_links.use(token, RESET_PASSWORD)
    if link is None:
        return link_problem(problem)
    revoked = store.self_service.set_password(link.user, password)
    if (link.user.email or "").lower() == link.email.lower():
        store.self_service.verify_email(link.user, link.user.email or link.email)
    store.commit()
    events.record("account.reset_done", sub=link.user.sub, grants_revoked=revoked,
                  address=caller_address())
    return page("reset_done.html")


def password_rules() -> str:
    return gettext("Use 8 to 1024 characters.")
