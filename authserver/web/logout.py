"""/oauth/logout: OpenID Connect RP-Initiated Logout (oauth/end_session.py decides where to).

With a valid id_token_hint the session ends at once and the browser goes back to the client's
registered post_logout_redirect_uri; without one, anyone could have sent the user here (a
logout CSRF), so the user is asked to confirm, and is not redirected afterwards. A valid hint
for another user than the one signed in is asked about too (§2: the OP should ask "whether
the End-User wants to log out of the OP" when the hint is not for the current session).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import context
from .pages import page
from .protocol import flask_response, protocol_request
from .session import csrf_valid, sign_out, signed_in_user

bp = Blueprint("logout", __name__, url_prefix="/oauth")
LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state",
                 "logout_hint", "ui_locales")


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    server = context.oauth_server()
    try:
        end_session = server.validate_endpoint_request(
            "end_session", protocol_request(back_channel=False))
    except OAuth2Error as error:
        # §4: on an error the OP MUST NOT redirect.
        return page("error.html", 400, message=gettext(
            "This sign-out request is not valid: %(reason)s",
            reason=error.get_error_description() or error.error))
    confirmed = request.method == "POST" and "confirm" in request.form
    if confirmed and not csrf_valid(request.form.get("csrf_token")):
        return page("error.html", 400,
                     message=gettext("This form expired or did not come from this site."))
    if request.method == "POST" and "cancel" in request.form:
        return page("logout_cancelled.html")  # nothing ends; no redirect (nothing trusted)
    if (end_session.needs_confirmation or _hint_for_someone_else(end_session)) and not confirmed:
        carried = [(k, request.values[k]) for k in LOGOUT_PARAMS if k in request.values]
        client, user = end_session.client, signed_in_user()
        return page("confirm_logout.html", carried=carried,
                     client_name=client.name if client is not None else None,
                     username=user.username if user is not None else None)
    ended = sign_out()
    if ended is not None:
        # Back-Channel Logout: the clients are told in the background; this page never waits.
        server.logout_notifier.session_ended(ended, context.store().login_sessions.clients(ended))
    answer = server.create_endpoint_response("end_session", end_session)
    return flask_response(answer) if answer is not None else page("signed_out.html")


def _hint_for_someone_else(end_session: Any) -> bool:
    """The hint names another end-user than the one signed in (nobody signed in: no one's
    session would end)."""
    current = signed_in_user()
    hinted = (end_session.id_token_claims or {}).get("sub")
    return current is not None and hinted is not None and hinted != current.sub
