"""The OIDC UserInfo endpoint (OIDC Core §5.3).

Written as a view rather than Authlib's UserInfoEndpoint: that class expects token objects with
get_user()/get_client(), and ours are validated JWT claims.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import current_token
from flask import Blueprint, Response, jsonify

from .. import context
from ..errors import error_response
from ..oauth.access_tokens import grant_of, grant_revoked
from ..oauth.openid import user_claims
from ..policy import GROUPS_SCOPE
from .protect import require_token_for_any_api

bp = Blueprint("userinfo", __name__, url_prefix="/oauth")


@bp.route("/userinfo", methods=["GET", "POST"])
@require_token_for_any_api("openid")
def userinfo() -> Response:
    store = context.store()
    user = store.users.by_sub(current_token["sub"])
    if user is None:
        # The user was deleted after the token was issued (OIDC Core §5.3.3, RFC 6750 §3.1).
        return _invalid_token("the user no longer exists")
    grant = grant_of(store, current_token)
    if grant_revoked(grant):
        # A replayed code, a reused refresh token, a password change (oauth/grants/linked.py).
        return _invalid_token("the grant of this access token was revoked")
    requested = (grant.claims or {}).get("userinfo") if grant is not None else None
    scope = current_token.get("scope", "")
    claims = dict(user_claims(user, scope, requested))
    if GROUPS_SCOPE in scope.split():  # as they are now, not as the token says
        claims["groups"] = list(store.roles.groups_of(user.id))
    response = jsonify(claims)
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid_token(description: str) -> Response:
    return error_response(401, "invalid_token", description,
                          headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
