"""The OpenAPI description of the pages a browser visits: the authorization endpoint, the
steps of a pending request (login, consent), RP-initiated logout and the device flow's
user-code page. They answer HTML (or a redirect); described so that the fuzzer reaches them
too."""

from __future__ import annotations

from typing import Any

from .openapi_parts import AUTHORIZATION_PARAMETERS, REDIRECT, STRING, form, html, query

LOGOUT_PARAMETERS = {name: STRING for name in (
    "id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint",
    "ui_locales")}

PAGE_RESPONSES = {"200": html("A page (login, consent, confirmation)"), "302": REDIRECT,
                  "400": html("An error page (no client to send the error to)"),
                  "429": html("Too many failed sign-ins")}

AUTHORIZE = {
    "get": {"summary": "Authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2)",
            "parameters": query(AUTHORIZATION_PARAMETERS), "responses": PAGE_RESPONSES},
    "post": {"summary": "Authorization endpoint: the request as a form",
             "requestBody": form(AUTHORIZATION_PARAMETERS, []),
             "responses": PAGE_RESPONSES},
}

LOGOUT = {
    "get": {"summary": "RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2)",
            "parameters": query(LOGOUT_PARAMETERS), "responses": PAGE_RESPONSES},
    "post": {"summary": "RP-initiated logout, and its confirmation form",
             "requestBody": form({**LOGOUT_PARAMETERS, "confirm": STRING,
                                  "csrf_token": STRING}, []),
             "responses": PAGE_RESPONSES},
}

DEVICE_PAGE = {
    "get": {"summary": "The device flow's verification page (RFC 8628 §3.3)",
            "parameters": query({"user_code": STRING}), "responses": PAGE_RESPONSES},
    "post": {"summary": "The user code (RFC 8628 §3.3); its login and approval are the "
                        "steps of an interaction",
             "requestBody": form({"user_code": STRING, "csrf_token": STRING}, []),
             "responses": {**PAGE_RESPONSES, "403": html("Refused")}},
}


# The steps of a pending authorization request (web/interaction.py): its id is in the path.
INTERACTION_ID = [{"name": "interaction_id", "in": "path", "required": True, "schema": STRING}]
STEP_RESPONSES = {**PAGE_RESPONSES, "401": html("Wrong username or password"),
                  "404": html("No such interaction (ended, expired, or another browser's)")}
INTERACTION = {
    "parameters": INTERACTION_ID,
    "get": {"summary": "The current step of a pending authorization request",
            "responses": STEP_RESPONSES},
}
INTERACTION_LOGIN = {
    "parameters": INTERACTION_ID,
    "post": {"summary": "The login step of a pending authorization request",
             "requestBody": form({"csrf_token": STRING, "username": STRING,
                                  "password": STRING}, []),
             "responses": STEP_RESPONSES},
}
INTERACTION_CONSENT = {
    "parameters": INTERACTION_ID,
    "post": {"summary": "The consent step of a pending authorization request",
             "requestBody": form({"csrf_token": STRING, "decision": {
                 "type": "string", "enum": ["allow", "deny"]}}, []),
             "responses": STEP_RESPONSES},
}


INTERACTION_CODE = {
    "parameters": INTERACTION_ID,
    "post": {"summary": "The second factor of a sign-in: a TOTP or a recovery code",
             "requestBody": form({"csrf_token": STRING, "code": STRING}, []),
             "responses": STEP_RESPONSES},
}
INTERACTION_SET_UP = {
    "parameters": INTERACTION_ID,
    "post": {"summary": "The first code of an authenticator app set up during the sign-in "
                        "(two factors required); answers the recovery codes, once",
             "requestBody": form({"csrf_token": STRING, "code": STRING}, []),
             "responses": STEP_RESPONSES},
}
INTERACTION_CONTINUE = {
    "parameters": INTERACTION_ID,
    "post": {"summary": "Go on to the next step (after the recovery codes were shown)",
             "requestBody": form({"csrf_token": STRING}, []),
             "responses": STEP_RESPONSES},
}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": STRING,
        "description": "The provider's slug (`authserver idp list`)"}
FEDERATION_RESPONSES = {"303": REDIRECT, "400": html("An error page (nothing was created)"),
                        "404": html("No such provider")}
FEDERATION_START = {
    "get": {"summary": "Sign in through another OpenID provider: to the provider",
            "parameters": [SLUG, *query({"interaction": STRING})],
            "responses": FEDERATION_RESPONSES},
}
FEDERATION_CALLBACK = {
    "get": {"summary": "Back from the provider (its authorization response, RFC 6749 §4.1.2)",
            "parameters": [SLUG, *query({name: STRING for name in (
                "code", "state", "error", "error_description", "iss")})],
            "responses": {**PAGE_RESPONSES, **FEDERATION_RESPONSES,
                          "403": html("No account here for this identity"),
                          "502": html("The provider failed or answered what cannot be trusted")}},
}
FEDERATION_LINK = {
    "post": {"summary": "Link another provider's identity to the signed-in user",
             "parameters": [SLUG], "requestBody": form({"csrf_token": STRING}, []),
             "responses": FEDERATION_RESPONSES},
}


def browser_paths() -> dict[str, Any]:
    return {"/oauth/authorize": AUTHORIZE, "/oauth/logout": LOGOUT, "/device": DEVICE_PAGE,
            "/interaction/{interaction_id}": INTERACTION,
            "/interaction/{interaction_id}/login": INTERACTION_LOGIN,
            "/interaction/{interaction_id}/consent": INTERACTION_CONSENT,
            "/interaction/{interaction_id}/code": INTERACTION_CODE,
            "/interaction/{interaction_id}/set-up": INTERACTION_SET_UP,
            "/interaction/{interaction_id}/continue": INTERACTION_CONTINUE,
            "/login/idp/{slug}": FEDERATION_START,
            "/login/idp/{slug}/callback": FEDERATION_CALLBACK,
            "/login/idp/{slug}/link": FEDERATION_LINK,
            "/login/idp/{slug}/unlink": {"post": {**FEDERATION_LINK["post"], "summary":
                "Unlink a provider from the signed-in user (not their last way to sign in)"}}}
