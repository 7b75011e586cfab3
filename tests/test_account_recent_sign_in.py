"""Adding a factor needs a fresh sign-in (web/recent_sign_in.py): a session older than five
minutes (a copied cookie, a browser left open) adds no passkey and starts no authenticator
app's set-up without the current password, said beside the field. Over HTTP (the Flask test
client) on SQLite and PostgreSQL; the sign-in is aged in its database row."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import update

from authserver.models import LoginSession

from .helpers import PASSWORD
from .passkey_support import ISSUER, app, post_json, signed_in_browser, token_of  # noqa: F401
from .soft_authenticator import SoftAuthenticator


def age_sign_ins(app: Flask, seconds: int = 600) -> None:  # noqa: F811
    with app.extensions["authserver.db"].session() as session:
        session.execute(update(LoginSession).values(auth_time=LoginSession.auth_time - seconds))
        session.commit()


def passkey_count(app: Flask) -> int:  # noqa: F811
    from authserver.models import Passkey
    with app.extensions["authserver.db"].session() as session:
        return session.query(Passkey).count()


def test_a_passkey_added_long_after_the_sign_in_needs_the_password(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    assert 'id="passkey-password"' not in browser.get("/account").get_data(as_text=True)
    age_sign_ins(app)
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="passkey-password"' in page and 'autocomplete="current-password"' in page
    token = token_of(browser)
    for body, words in (({}, "more than 5 minutes ago"),
                        ({"password": "not it"}, "not your current password"),
                        ({"password": 5}, "more than 5 minutes ago")):
        refused = post_json(browser, "/account/passkeys/options", body, token)
        assert refused.status_code == 401, refused.json
        assert refused.json["error"] == "reauthentication_required"
        assert words in refused.json["error_description"]
    authenticator = SoftAuthenticator(ISSUER)
    options = post_json(browser, "/account/passkeys/options", {"password": PASSWORD}, token)
    assert options.status_code == 200, options.json
    added = post_json(browser, "/account/passkeys",
                      {"credential": authenticator.create(options.json), "name": "k"}, token)
    assert added.status_code == 200 and passkey_count(app) == 1


def test_an_app_set_up_long_after_the_sign_in_needs_the_password(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    age_sign_ins(app)
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="totp_setup_password"' in page
    refused = browser.post("/account/totp", data={"csrf_token": csrf_of(page)})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 401 and 'id="totp_setup_password-error"' in html
    assert "more than 5 minutes ago" in html and "<svg" not in html
    wrong = browser.post("/account/totp", data={"csrf_token": csrf_of(page),
                                                "totp_setup_password": "not it"})
    assert wrong.status_code == 401 and "not your current password" in wrong.get_data(as_text=True)
    shown = browser.post("/account/totp", data={"csrf_token": csrf_of(page),
                                                "totp_setup_password": PASSWORD})
    assert shown.status_code == 200 and 'id="totp-secret"' in shown.get_data(as_text=True)


def test_a_fresh_sign_in_sets_up_the_app_without_the_password(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="totp_setup_password"' not in page
    shown = browser.post("/account/totp", data={"csrf_token": csrf_of(page)})
    assert shown.status_code == 200 and 'id="totp-secret"' in shown.get_data(as_text=True)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)
