"""The second factor's steps of an interaction (web/interaction.py; the rules in assurance.py,
the held first factor and the pages in second_factor.py):

- `/interaction/<id>/code`: a TOTP or recovery code, after the password (or a step-up);
- `/interaction/<id>/set-up`: the first code of an authenticator app set up during the
  sign-in (a client that requires two factors, a user who had none), then the recovery codes,
  shown once, whose page goes on at `/interaction/<id>/continue`.

A code posted to an interaction of another browser finds nothing (the page says it is gone);
one posted without a held password is sent back to the login page.
"""

from __future__ import annotations

from flask import Response, url_for
from flask_babel import gettext

from ..models import Interaction
from ..policy import AMR_OTP
from .assurance import Verdict
from .interaction import (
    Pending,
    bp,
    factor_step,
    factor_target,
    next_step,
    show_step,
    step,
    user_of,
)
from .pages import page
from .second_factor import check_code, complete, confirm_set_up, held


def _start_again() -> str:
    return gettext("Your sign-in timed out before the second step. Enter your password again.")


@bp.post("/<interaction_id>/code")
@step(posted=True)
def code(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    pending = held(factor_target(interaction_id))
    if pending is None:
        return show_step(interaction_id, validated, None, _start_again(), 401)
    factor, error = check_code(pending)
    if factor is None:
        return factor_step(interaction_id, validated, pending.user, Verdict.ASK, error, 400)
    complete(pending, factor)
    return next_step(interaction_id, interaction, validated, pending.user)


@bp.post("/<interaction_id>/set-up")
@step(posted=True)
def set_up(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    pending = held(factor_target(interaction_id))
    if pending is None:
        return show_step(interaction_id, validated, None, _start_again(), 401)
    codes, error = confirm_set_up(pending.user)
    if codes is None:
        return factor_step(interaction_id, validated, pending.user, Verdict.SET_UP, error, 400)
    complete(pending, (AMR_OTP,))
    return page("recovery_codes.html", codes=codes, client=validated.client,
                action=url_for("interaction.proceed", interaction_id=interaction_id))


@bp.post("/<interaction_id>/continue")
@step(posted=True)
def proceed(interaction_id: str, interaction: Interaction, validated: Pending) -> Response:
    user = user_of(interaction, validated)
    if user is None:
        return show_step(interaction_id, validated, None)
    return next_step(interaction_id, interaction, validated, user)
