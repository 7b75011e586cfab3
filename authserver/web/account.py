"""/account: a signed-in person's own page (who they are, sign-ins, apps; the forms of
web/account_actions.py), and /account/login, its plain sign-in (not an OAuth interaction).

Every page is no-store and not framable (ops/security_headers.py); every form posts the CSRF
token. Linked sign-in providers come from web/federation.py; two-factor sign-in has its place
on the page (a block of account.html) for the issue that builds it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, get_flashed_messages, redirect, request, url_for
from flask.typing import ResponseReturnValue

from .. import context, events
from ..models import User
from .browser_words import browser_name
from .federation import linked_identities
from .forms import csrf_ok, form_expired
from .pages import page
from .session import login_session, signed_in_user, try_login

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
                notices=get_flashed_messages(), errors=values.pop("errors", {}),
                **linked_identities(user), **values)


@bp.get("")
def show() -> ResponseReturnValue:
    user = signed_in_user()
    if user is None:
        return redirect(url_for("account.login"), 303)
    return account_page(user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    action = url_for("account.login")
    if request.method == "GET":
        if signed_in_user() is not None:
            return redirect(url_for("account.show"), 303)
        return page("login.html", client=None, action=action, login_hint="")
    if not csrf_ok():
        return page("login.html", 400, client=None, action=action, error=form_expired(),
                    login_hint=request.form.get("username", ""))
    user, error = try_login()
    if user is None:
        return page("login.html", 401, client=None, action=action, error=error,
                    login_hint=request.form.get("username", ""))
    events.record("account.signed_in", sub=user.sub)
    return redirect(url_for("account.show"), 303)
