"""/oauth/authorize: the browser brings the client's authorization request here.

The request is validated once (oauth/authorization_request.py). When the user is signed in
and has consented before, the answer goes straight back to the client; otherwise the request
is kept as a pending interaction of this browser and its first step (login or consent) is
shown, whose forms post to /interaction/<id> (web/interaction.py).

Errors that cannot safely go back to the client (unknown client, unregistered redirect_uri)
are shown as a page and never redirected (RFC 6749 §4.1.2.1); every other error goes back to
the client's redirect_uri, with `state` and `iss` (RFC 9207).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, InteractionRequiredError
from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from .. import context
from ..models import User
from ..oauth.authorization_request import UnsafeRequest, ValidatedRequest, max_age, validate
from .assurance import Verdict, verdict
from .interaction import (
    answer,
    consent_needed,
    error_page,
    error_redirect,
    show_step,
    start,
)
from .session import another_account, login_session, signed_in_user

bp = Blueprint("authorize", __name__, url_prefix="/oauth")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    try:
        validated = validate(context.oauth_server(), request.values, _signed_in_for)
    except UnsafeRequest as problem:
        return error_page(problem.message)
    except OAuth2Error as error:
        return error_redirect(error)
    user: User | None = validated.grant.request.user
    enough = user is not None and _sign_in_enough(validated, user)
    if enough and user is not None and not consent_needed(validated, user):
        return answer(validated, user, True)
    if "none" in validated.prompts:
        # OIDC Core §3.1.2.6 (nobody signed in was login_required, from Authlib's check; a
        # sign-in short of a factor the request needs is interaction_required).
        refusal = ConsentRequiredError if enough else InteractionRequiredError
        return error_redirect(refusal(redirect_uri=validated.redirect_uri, state=validated.state))
    interaction_id = start(validated, user)
    return show_step(interaction_id, validated, user,
                     another_account() if validated.another_account_signed_in else None,
                     enough=enough)


def _sign_in_enough(validated: ValidatedRequest, user: User) -> bool:
    current = login_session()
    return verdict(validated, user, current.amr if current is not None else None) is Verdict.MET


def _signed_in_for(parameters: dict[str, Any]) -> User | None:
    """Who is signed in for this request: nobody when it asks for a new sign-in (prompt=login)
    or one fresher than the current (max_age, OIDC Core §3.1.2.1)."""
    if "login" in (parameters.get("prompt") or "").split():
        return None
    return signed_in_user(max_age(parameters))
