"""A passkey as the second factor, after the password (web/second_factor.py holds the first):
the second step's page (templates/second_factor.html, its `passkey` block) of an interaction
(`/interaction/<id>/code/passkey`) and of the account's own sign-in
(`/account/login/code/passkey`). Only the held user's passkeys are asked for and accepted
(the challenge names the user; web/passkey_ceremony.py refuses anyone else's)."""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import events
from ..policy import AMR_MFA
from . import account, interaction
from .account import ACCOUNT_SIGN_IN
from .interaction import factor_target
from .passkey_ceremony import (
    SECOND_FACTOR,
    CeremonyError,
    authenticate,
    authentication_options,
    json_body,
)
from .second_factor import Pending, complete, held
from .session import csrf_token


def _held(target: str) -> Pending:
    pending = held(target)
    if pending is None:
        raise CeremonyError("login_required", gettext(
            "Your sign-in timed out before the second step. Enter your password again."), 401)
    return pending


def _passkey_as_second_factor(pending: Pending) -> None:
    body = json_body()
    try:
        signed = authenticate(body, SECOND_FACTOR)
    except CeremonyError as refused:
        events.record("login.refused", refused.error, method="passkey",
                      username=pending.user.username)
        raise
    if signed.user.id != pending.user.id:  # the challenge named the user: never reached
        raise CeremonyError("invalid_passkey", gettext(
            "This passkey was not accepted. Use a passkey you added to your account here."))
    complete(pending, tuple(value for value in signed.amr if value != AMR_MFA))
    events.record("login.second_factor", sub=pending.user.sub, method="passkey")


def _options(target: str) -> ResponseReturnValue:
    try:
        pending = _held(target)
        json_body()
        return authentication_options(SECOND_FACTOR, pending.user)
    except CeremonyError as refused:
        return refused.response()


@interaction.bp.post("/<interaction_id>/code/passkey/options")
def second_factor_options(interaction_id: str) -> ResponseReturnValue:
    return _options(factor_target(interaction_id))


@interaction.bp.post("/<interaction_id>/code/passkey")
def second_factor_passkey(interaction_id: str) -> ResponseReturnValue:
    try:
        _passkey_as_second_factor(_held(factor_target(interaction_id)))
    except CeremonyError as refused:
        return refused.response()
    return jsonify(post=url_for("interaction.proceed", interaction_id=interaction_id),
                   csrf_token=csrf_token())


@account.bp.post("/login/code/passkey/options")
def account_second_factor_options() -> ResponseReturnValue:
    return _options(ACCOUNT_SIGN_IN)


@account.bp.post("/login/code/passkey")
def account_second_factor_passkey() -> ResponseReturnValue:
    try:
        pending = _held(ACCOUNT_SIGN_IN)
        _passkey_as_second_factor(pending)
    except CeremonyError as refused:
        return refused.response()
    events.record("account.signed_in", sub=pending.user.sub, method="passkey")
    return jsonify(location=url_for("account.show"))

