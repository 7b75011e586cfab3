"""/account: every action of a signed-in person's own page, over HTTP (the Flask test
client) with a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from authserver.config import Settings

from .account_helpers import account_form, delivered, mail_app, path_of, sign_in
from .helpers import PASSWORD, REDIRECT, csrf, make_client, make_user, password_grant, refresh
from .mail_server import Inbox, smtp_server


@pytest.fixture
def mail(settings: Settings) -> Iterator[tuple[Flask, Inbox]]:
    with smtp_server() as (url, inbox):
        app = mail_app(settings, url)
        make_user(app, email="alice@example.com", name="Alice")
        yield app, inbox
        app.extensions["authserver.db"].dispose()


def test_the_account_page_needs_a_sign_in_and_then_comes_back(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    browser = app.test_client()
    away = browser.get("/account")
    assert away.status_code == 303 and away.headers["Location"].endswith("/account/login")
    login = browser.get("/account/login")
    assert 'name="username"' in login.get_data(as_text=True)
    back = sign_in(browser, "alice", PASSWORD)
    assert back.status_code == 303 and back.headers["Location"].endswith("/account")
    page = browser.get("/account", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
                                                          "Firefox/130.0"})
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "alice" in html and "Alice" in html and "alice@example.com" in html
    assert "not verified" in html
    assert html.count('name="csrf_token"') == html.count("<form")


def test_a_wrong_sign_in_at_the_account_login_is_refused(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    refused = sign_in(app.test_client(), "alice", "wrong password")
    assert refused.status_code == 401 and "do not match" in refused.get_data(as_text=True)


def test_change_password_ends_other_sessions_and_refresh_families(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    creds = make_client(app, grant_types=["password", "refresh_token"])
    tokens = password_grant(app.test_client(), creds, scope="openid offline_access").get_json()
    me, other = app.test_client(), app.test_client()
    sign_in(me, "alice", PASSWORD)
    sign_in(other, "alice", PASSWORD)
    wrong = account_form(me, "/account/password",
                         {"current_password": "not it", "new_password": "a brand new one"})
    assert wrong.status_code == 400 and 'id="current_password-error"' in wrong.get_data(as_text=True)
    short = account_form(me, "/account/password",
                         {"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400 and 'id="new_password-error"' in short.get_data(as_text=True)
    changed = account_form(me, "/account/password",
                           {"current_password": PASSWORD, "new_password": "a brand new one"})
    assert changed.status_code == 303
    assert "Your password was changed" in me.get("/account").get_data(as_text=True)
    assert other.get("/account").status_code == 303  # the other sign-in ended
    assert refresh(app.test_client(), creds, tokens["refresh_token"]).status_code == 400
    assert sign_in(app.test_client(), "alice", "a brand new one").status_code == 303


def test_change_email_applies_when_the_mailed_link_is_opened(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    me = app.test_client()
    sign_in(me, "alice", PASSWORD)
    bad = account_form(me, "/account/email", {"email": "nope"})
    assert bad.status_code == 400 and 'id="email-error"' in bad.get_data(as_text=True)
    asked = account_form(me, "/account/email", {"email": "alice@new.example"})
    assert asked.status_code == 303
    assert "alice@example.com" in me.get("/account").get_data(as_text=True)  # not yet
    delivered(app)
    opened = me.get(path_of(inbox.last_link("alice@new.example")))
    assert opened.status_code == 200
    html = me.get("/account").get_data(as_text=True)
    assert "alice@new.example" in html and ">verified<" in html


def test_end_one_session_or_all_others(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    me, phone, laptop = app.test_client(), app.test_client(), app.test_client()
    for browser in (me, phone, laptop):
        sign_in(browser, "alice", PASSWORD)
    html = me.get("/account").get_data(as_text=True)
    assert len(re.findall(r'name="sid" value="([^"]+)"', html)) == 3
    laptop_sid = _this_browser(laptop.get("/account").get_data(as_text=True))
    ended = me.post("/account/sessions/end", data={"sid": laptop_sid, "csrf_token": csrf(html)})
    assert ended.status_code == 303
    assert laptop.get("/account").status_code == 303 and phone.get("/account").status_code == 200
    again = me.post("/account/sessions/end", data={"sid": laptop_sid, "csrf_token": csrf(html)})
    assert again.status_code == 404
    others = account_form(me, "/account/sessions/end-others", {})
    assert others.status_code == 303
    assert phone.get("/account").status_code == 303 and me.get("/account").status_code == 200


def _this_browser(html: str) -> str:
    """The sid of the sign-in the page calls "this browser"."""
    row = next(li for li in html.split("<li>") if "this browser" in li)
    found = re.search(r'name="sid" value="([^"]+)"', row)
    assert found
    return found.group(1)


def test_revoking_an_app_ends_its_consent_and_refresh_families(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    creds = make_client(app, grant_types=["password", "refresh_token"], redirect_uris=[REDIRECT])
    tokens = password_grant(app.test_client(), creds, scope="openid offline_access").get_json()
    with app.app_context():
        store = app.extensions["authserver.store"]
        alice = store.users.authenticate("alice", PASSWORD)
        store.consents.remember(alice.id, creds[0], "openid offline_access")
        store.commit()
        store.close()
    me = app.test_client()
    sign_in(me, "alice", PASSWORD)
    assert "test client" in me.get("/account").get_data(as_text=True)
    unknown = account_form(me, "/account/apps/revoke", {"client_id": "nobody"})
    assert unknown.status_code == 404
    revoked = account_form(me, "/account/apps/revoke", {"client_id": creds[0]})
    assert revoked.status_code == 303
    assert "No app has access" in me.get("/account").get_data(as_text=True)
    assert refresh(app.test_client(), creds, tokens["refresh_token"]).status_code == 400


@pytest.mark.parametrize("path", ["/account/password", "/account/email", "/account/sessions/end",
                                  "/account/sessions/end-others", "/account/apps/revoke"])
def test_every_account_form_needs_its_csrf_token(mail: tuple[Flask, Inbox], path: str) -> None:
    app, _ = mail
    me = app.test_client()
    sign_in(me, "alice", PASSWORD)
    refused = me.post(path, data={"current_password": PASSWORD, "new_password": "a brand new one",
                                  "email": "x@example.com", "sid": "x", "client_id": "x",
                                  "csrf_token": "forged"})
    assert refused.status_code == 400 and "did not come from this site" in refused.get_data(
        as_text=True)
    assert sign_in(app.test_client(), "alice", PASSWORD).status_code == 303  # nothing changed


def test_account_forms_need_a_sign_in(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    answer = app.test_client().post("/account/password", data={"csrf_token": "x"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/account/login")
