"""The WebAuthn ceremonies on py_webauthn: this server as relying party (RP ID = the issuer's
host), the options a browser gets, and the checks of what it answers.

Each ceremony is two JSON requests from static/passkeys.js: options (a challenge kept on the
server for this browser, web/session.py's browser id, and spent by the answer whatever it
is), then the authenticator's answer. Errors are the JSON error shape with words a person can
read, status 400 (403 for a stale CSRF token): never a 500, nothing half-written.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, request
from flask_babel import gettext
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import context
from ..errors import error_response
from ..models import Passkey, User
from ..operations import mfa
from ..store.passkeys import MAX_PASSKEYS, Challenge
from .session import browser_id, csrf_valid

REGISTER, SIGN_IN, SECOND_FACTOR = "register", "sign-in", "second-factor"
TRANSPORTS = {t.value for t in AuthenticatorTransport}
NAME_LENGTH = 100


class CeremonyError(Exception):
    """A refused request of a ceremony: `error` for programs, `message` for the person."""

    def __init__(self, error: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error, self.message, self.status = error, message, status

    def response(self) -> Response:
        return error_response(self.status, self.error, self.message)


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the RP ID: the issuer's host name
    origin: str  # where the pages are: the issuer's scheme, host and port


def relying_party() -> RelyingParty | None:
    """This server as a WebAuthn relying party, or None when browsers would refuse it: an IP
    address is never an RP ID, and WebAuthn needs a secure context (https, or localhost)."""
    issuer = urlsplit(context.settings().issuer)
    host = issuer.hostname or ""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    local = host == "localhost" or host.endswith(".localhost")
    if issuer.scheme != "https" and not local:
        return None
    return RelyingParty(host, f"{issuer.scheme}://{issuer.netloc}")


def unavailable_reason() -> str | None:
    """Why passkeys cannot work on this server (the account page says it), or None."""
    if relying_party() is not None:
        return None
    return gettext("Passkeys are not available on this server: browsers accept them only for "
                   "a host name over https (or localhost), and this server's address is %(issuer)s. "
                   "The operator can use a host name, such as http://localhost:5000 in development.",
                   issuer=context.settings().issuer)


def use_scripts() -> None:
    """This page runs static/passkeys.js, which posts JSON to our endpoints (the page policy
    then allows our own scripts and requests: ops/security_headers.py)."""
    g.csp_scripts = True


def _rp() -> RelyingParty:
    rp = relying_party()
    if rp is None:
        raise CeremonyError("passkeys_unavailable", unavailable_reason() or "", 404)
    return rp


def json_body() -> dict[str, Any]:
    """The posted JSON object, its CSRF token (header X-CSRF-Token) checked."""
    if not csrf_valid(request.headers.get("X-CSRF-Token")):
        raise CeremonyError("invalid_csrf_token", gettext(
            "This page expired or did not come from this site. Reload it and try again."), 403)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise CeremonyError("invalid_request", gettext("The request is not a JSON object."))
    return body


def options_response(options: Any) -> Response:
    response = Response(options_to_json(options), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(p.credential_id),
        transports=[AuthenticatorTransport(t) for t in (p.transports or "").split()])
        for p in passkeys]


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle: the user's `sub` (opaque, no personal data, never reused)."""
    return user.sub.encode()


def registration_options(user: User) -> Response:
    rp = _rp()
    store = context.store()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.id, user_id=user_handle(user), user_name=user.username,
        user_display_name=user.name or user.username,
        challenge=store.passkeys.new_challenge(browser_id(), REGISTER, user.id),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(store.passkeys.of_user(user)))
    return options_response(options)


def authentication_options(purpose: str, user: User | None = None) -> Response:
    """A sign-in's options: any discoverable passkey of this site, or, for a second factor,
    one of `user`'s."""
    rp = _rp()
    store = context.store()
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=store.passkeys.new_challenge(browser_id(), purpose,
                                               user.id if user is not None else None),
        allow_credentials=_descriptors(store.passkeys.of_user(user)) if user is not None else [],
        user_verification=UserVerificationRequirement.PREFERRED)
    return options_response(options)


def _challenge(purpose: str) -> Challenge:
    challenge = context.store().passkeys.take_challenge(browser_id(), purpose)
    if challenge is None:
        raise CeremonyError("invalid_challenge", gettext(
            "This passkey request expired or was already used. Try again."))
    return challenge


def clean_name(raw: Any) -> str:
    """A passkey's name as typed: printable, trimmed, at most 100 characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", "", raw if isinstance(raw, str) else "").strip()
    return text[:NAME_LENGTH]


def register(user: User, body: dict[str, Any]) -> Passkey:
    """Checks a registration answer against this browser's challenge for `user` and adds the
    passkey (flushed, not committed: the caller commits with its audit)."""
    rp = _rp()
    challenge = _challenge(REGISTER)
    if challenge.user_id != user.id:
        raise CeremonyError("invalid_challenge", gettext(
            "This passkey request expired or was already used. Try again."))
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise CeremonyError("invalid_request", gettext("The passkey's answer is missing."))
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge.value,
            expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, TypeError, KeyError) as refused:
        raise CeremonyError("invalid_passkey", gettext(
            "The passkey's answer could not be verified.")) from refused
    reported = credential.get("response", {}).get("transports") if isinstance(
        credential.get("response"), dict) else None
    transports = sorted({t for t in reported if isinstance(t, str) and t in TRANSPORTS}
                        if isinstance(reported, list) else set())
    store = context.store()
    if store.passkeys.count(user) >= MAX_PASSKEYS:
        raise CeremonyError("too_many_passkeys", gettext(
            "You have as many passkeys as an account may have. Remove one first."))
    name = clean_name(body.get("name")) or gettext("Passkey %(number)s",
                                                   number=store.passkeys.count(user) + 1)
    added = store.passkeys.add(user, bytes_to_base64url(verified.credential_id),
                               verified.credential_public_key, verified.sign_count, name,
                               transports)
    if added is None:
        raise CeremonyError("invalid_passkey", gettext("This passkey is registered already."))
    return added


@dataclass(frozen=True)
class SignedIn:
    user: User
    amr: list[str]


def authenticate(body: dict[str, Any], purpose: str) -> SignedIn:
    """Checks a sign-in answer against this browser's challenge: the passkey is found by its
    credential id (the user it belongs to is who signs in: a user handle the browser sends
    must be theirs), its signature and RP checked, its counter must go forward (unless the
    authenticator keeps none), and the use is recorded (not committed)."""
    rp = _rp()
    challenge = _challenge(purpose)
    refused = CeremonyError("invalid_passkey", gettext(
        "This passkey was not accepted. Use a passkey you added to your account here."))
    credential = body.get("credential")
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise CeremonyError("invalid_request", gettext("The passkey's answer is missing."))
    try:
        credential_id = bytes_to_base64url(base64url_to_bytes(credential["id"]))
    except ValueError as malformed:
        raise refused from malformed
    store = context.store()
    passkey = store.passkeys.find(credential_id)
    if passkey is None or (challenge.user_id is not None and passkey.user_id != challenge.user_id):
        raise refused
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if handle and handle != bytes_to_base64url(user_handle(passkey.user)):
        raise refused  # the authenticator says it is another user's
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge.value, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError) as failed:
        raise refused from failed
    if not store.passkeys.used(passkey, verified.new_sign_count):
        raise refused  # the same answer, counted by another request first
    # RFC 8176: swk, a proof of a key; "user" when the authenticator verified the user (a PIN
    # or biometric): with the key, two factors, "mfa".
    amr = ["swk", "user", "mfa"] if verified.user_verified else ["swk"]
    return SignedIn(passkey.user, amr)


def sign_in_offer(options_url: str, verify_url: str) -> dict[str, str] | None:
    """What a login page needs for its "Sign in with a passkey" button (templates/login.html),
    or None when passkeys cannot work here."""
    if relying_party() is None:
        return None
    use_scripts()
    return {"options": options_url, "verify": verify_url}


def second_factor_offer(user: User, options_url: str, verify_url: str) -> dict[str, Any] | None:
    """The second step page's "Use a passkey" button (templates/second_factor.html), when the
    user has a passkey that can work here; `only` when it is their only second factor (no
    authenticator app: the page asks for the passkey first), `recovery` when they have
    recovery codes left (then typed in the page's `code` field instead)."""
    if relying_party() is None or not context.store().passkeys.count(user):
        return None
    use_scripts()
    session = context.store().session()
    return {"options": options_url, "verify": verify_url,
            "only": not mfa.has_totp(session, user),
            "recovery": mfa.recovery_codes_left(session, user) > 0}
