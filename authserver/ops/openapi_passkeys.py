"""The OpenAPI description of the passkey endpoints (web/account_passkeys.py, passkey_signin.py,
passkey_second_factor.py; the ceremonies in passkey_ceremony.py): the JSON requests
static/passkeys.js makes (options, then the authenticator's answer, each with the page's CSRF
token in X-CSRF-Token) and the account page's forms that name or remove a passkey."""

from __future__ import annotations

from typing import Any

from .openapi_account import PAGE
from .openapi_browser import INTERACTION_ID
from .openapi_parts import REDIRECT, STRING, error, form, html, json_body

CSRF_HEADER = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": STRING,
               "description": "The page's CSRF token (the session's; a sign-in's next step "
                              "gets a new one in its answer)"}

# The body of an options request: a JSON object (the script posts {}); its members are unused.
OPTIONS_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object"}}}}


def _answer_body(*, named: bool = False) -> dict[str, Any]:
    """The authenticator's answer: the PublicKeyCredential as JSON (WebAuthn Level 3
    §5.1.8/§5.1.9: binary members base64url), and for a new passkey the name typed for it."""
    properties: dict[str, Any] = {"credential": {
        "type": "object", "required": ["id", "rawId", "type", "response"],
        "properties": {"id": STRING, "rawId": STRING, "type": {"const": "public-key"},
                       "response": {"type": "object", "properties": {
                           name: STRING for name in (
                               "clientDataJSON", "attestationObject", "authenticatorData",
                               "signature", "userHandle")} | {
                           "transports": {"type": "array", "items": STRING}}},
                       "authenticatorAttachment": STRING,
                       "clientExtensionResults": {"type": "object"}}}}
    if named:
        properties["name"] = {"type": "string", "maxLength": 100,
                              "description": "Trimmed; empty: “Passkey N”"}
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["credential"], "properties": properties}}}}


# What py_webauthn's options_to_json writes (WebAuthn Level 3 §5.4, §5.5).
CREATION_OPTIONS = json_body("PublicKeyCredentialCreationOptions, binary members base64url", {
    "type": "object", "required": ["rp", "user", "challenge", "pubKeyCredParams"],
    "properties": {"rp": {"type": "object"}, "user": {"type": "object"}, "challenge": STRING,
                   "pubKeyCredParams": {"type": "array", "items": {"type": "object"}},
                   "timeout": {"type": "integer"},
                   "excludeCredentials": {"type": "array", "items": {"type": "object"}},
                   "authenticatorSelection": {"type": "object"}, "attestation": STRING}})
REQUEST_OPTIONS = json_body("PublicKeyCredentialRequestOptions, binary members base64url", {
    "type": "object", "required": ["challenge", "rpId"],
    "properties": {"challenge": STRING, "rpId": STRING, "timeout": {"type": "integer"},
                   "allowCredentials": {"type": "array", "items": {"type": "object"}},
                   "userVerification": STRING}})
LOCATION = json_body("Done: the page to open", {
    "type": "object", "required": ["location"], "properties": {"location": STRING}})
PROCEED = json_body("Signed in: post a form with this csrf_token to `post`, the sign-in's next "
                    "step", {"type": "object", "required": ["post", "csrf_token"],
                             "properties": {"post": STRING, "csrf_token": STRING}})

# The errors every ceremony may answer (web/passkey_ceremony.py's CeremonyError), JSON.
REFUSED = "invalid_request (not a JSON object, no answer), invalid_challenge (none for this " \
          "browser, or expired, or used), invalid_passkey (not verified, or not this user's)"
ERRORS = {
    "403": error("invalid_csrf_token: no or a stale X-CSRF-Token"),
    "404": error("passkeys_unavailable: the issuer is no host name over https (or localhost)"),
    "413": error("Body too large"),
}
SIGNED_OUT = error("login_required: no longer signed in")
TIMED_OUT = error("login_required: the sign-in's first step timed out")


def _json(summary: str, body: dict[str, Any], ok: dict[str, Any], *, refused: str = REFUSED,
          unauthorized: dict[str, Any] | None = None) -> dict[str, Any]:
    responses = {"200": ok, "400": error(f"Refused, nothing written: {refused}"), **ERRORS}
    if unauthorized is not None:
        responses["401"] = unauthorized
    return {"post": {"summary": summary, "parameters": [CSRF_HEADER], "requestBody": body,
                     "responses": responses}}


def _in_interaction(item: dict[str, Any]) -> dict[str, Any]:
    return {"parameters": INTERACTION_ID, **item}


def _account_form(summary: str, *fields: str) -> dict[str, Any]:
    return {"post": {"summary": summary, "requestBody": form(
        {"csrf_token": STRING, "passkey": {"type": "string", "pattern": "^[0-9]{1,9}$"},
         **{f: STRING for f in fields}}, []),
        "responses": {"303": REDIRECT, "400": PAGE["400"],
                      "404": html("The account page: no such passkey of yours")}}}


def passkey_paths() -> dict[str, Any]:
    gone = "interaction_gone (the sign-in request ended, expired, or is another browser's)"
    unverified = "email_not_verified (an address to confirm first)"
    return {
        "/account/passkeys/options": _json(
            "Add a passkey, 1: the registration options (signed in)", OPTIONS_BODY,
            CREATION_OPTIONS, refused="invalid_request, too_many_passkeys",
            unauthorized=SIGNED_OUT),
        "/account/passkeys": _json(
            "Add a passkey, 2: the authenticator's answer (audited)", _answer_body(named=True),
            LOCATION, refused=f"{REFUSED}, too_many_passkeys", unauthorized=SIGNED_OUT),
        "/account/passkeys/rename": _account_form("Rename one of your passkeys", "name"),
        "/account/passkeys/remove": _account_form("Remove one of your passkeys"),
        "/account/login/passkey/options": _json(
            "Sign in to your account with a passkey, 1: the options", OPTIONS_BODY,
            REQUEST_OPTIONS, refused="invalid_request"),
        "/account/login/passkey": _json(
            "Sign in to your account with a passkey, 2: its answer", _answer_body(), LOCATION,
            refused=f"{REFUSED}, {unverified}"),
        "/account/login/code/passkey/options": _json(
            "The second step of signing in to your account with a passkey, 1: the options "
            "(your passkeys only)", OPTIONS_BODY, REQUEST_OPTIONS, refused="invalid_request",
            unauthorized=TIMED_OUT),
        "/account/login/code/passkey": _json(
            "The second step of signing in to your account with a passkey, 2: its answer",
            _answer_body(), LOCATION, unauthorized=TIMED_OUT),
        "/interaction/{interaction_id}/passkey/options": _in_interaction(_json(
            "Sign in with a passkey during a pending authorization request, 1: the options",
            OPTIONS_BODY, REQUEST_OPTIONS, refused=f"invalid_request, {gone}")),
        "/interaction/{interaction_id}/passkey": _in_interaction(_json(
            "Sign in with a passkey during a pending authorization request, 2: its answer",
            _answer_body(), PROCEED, refused=f"{REFUSED}, {unverified}, another_account (the request "
                    f"named someone else), {gone}")),
        "/interaction/{interaction_id}/code/passkey/options": _in_interaction(_json(
            "A passkey as the second factor of a sign-in, 1: the options (the user's "
            "passkeys only)", OPTIONS_BODY, REQUEST_OPTIONS, refused="invalid_request",
            unauthorized=TIMED_OUT)),
        "/interaction/{interaction_id}/code/passkey": _in_interaction(_json(
            "A passkey as the second factor of a sign-in, 2: its answer", _answer_body(),
            PROCEED, unauthorized=TIMED_OUT)),
    }
