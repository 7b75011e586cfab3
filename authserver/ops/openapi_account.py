"""The OpenAPI description of a person's own pages (web/account.py, account_actions.py,
account_links.py, signup.py; and home.py's `/`): HTML forms and the links mailed to them,
described so that the fuzzer reaches them too."""

from __future__ import annotations

from typing import Any

from .openapi_parts import REDIRECT, STRING, form, html, query

PAGE = {"200": html("A page"), "303": REDIRECT, "400": html("The form, with its errors"),
        "429": html("Too many attempts: try again later")}


def _form_page(summary: str, *fields: str) -> dict[str, Any]:
    """A page whose form (with the session's csrf_token) posts `fields`."""
    return {"post": {"summary": summary,
                     "requestBody": form({"csrf_token": STRING, **{f: STRING for f in fields}}, []),
                     "responses": {**PAGE, "401": html("Wrong password")}}}


def _get_page(summary: str, *parameters: str) -> dict[str, Any]:
    return {"summary": summary, "parameters": query({p: STRING for p in parameters}),
            "responses": PAGE}


def account_paths() -> dict[str, Any]:
    return {
        "/": {"get": {"summary": "The server's home: a page for a browser, a JSON pointer to "
                                 "discovery for a program (by Accept)",
                      "responses": {"200": html("The home page, or JSON naming the issuer")}}},
        "/account": {"get": _get_page("Your account (signed in; else to /account/login)")},
        "/account/login": {"get": _get_page("Sign in to your account"),
                           **_form_page("Sign in to your account", "username", "password")},
        "/account/login/code": _form_page("The second step of signing in to your account: a code "
                                          "from your authenticator app or a recovery code", "code"),
        "/account/login/set-up": _form_page("Two factors required (AUTHSERVER_REQUIRE_MFA) and "
                                            "none yet: the new authenticator app's first code "
                                            "signs in (answers the recovery codes, once)", "code"),
        "/account/totp": _form_page("Set up an authenticator app: its QR code and secret"),
        "/account/totp/confirm": _form_page("Turn the authenticator app on with its first code "
                                            "(answers the recovery codes, once)", "code"),
        "/account/totp/remove": _form_page("Remove the authenticator app (with your password)",
                                           "totp_password"),
        "/account/recovery-codes": _form_page("Make 10 new recovery codes (the old ones stop "
                                              "working)"),
        "/account/password": _form_page("Change your password", "current_password",
                                        "new_password"),
        "/account/email": _form_page("Change your email (applied when its link is opened)",
                                     "email"),
        "/account/sessions/end": _form_page("End one of your sign-ins", "sid"),
        "/account/sessions/end-others": _form_page("End every other sign-in of yours"),
        "/account/apps/revoke": _form_page("Take back an app's access", "client_id"),
        "/account/verify": {"get": _get_page("A mailed email-verification link", "token")},
        "/account/forgot": {"get": _get_page("Forgot your password"),
                            **_form_page("Ask for a password reset link", "email")},
        "/account/reset": {"get": _get_page("A mailed password-reset link", "token"),
                           **_form_page("Set a new password", "token", "password")},
        "/account/signup": {"get": _get_page("Sign up (AUTHSERVER_SIGNUP=open)"),
                            **_form_page("Sign up", "username", "email", "password")},
    }
