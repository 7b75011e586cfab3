"""Sign-up, email verification and password reset over HTTP (the Flask test client), with a
real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver.config import Settings

from .account_helpers import delivered, mail_app, open_link, path_of, post_form, sign_in, sign_up
from .helpers import PASSWORD, advance_clock, make_client, make_user, password_grant, refresh
from .mail_server import Inbox, smtp_server

CHECK_EMAIL = "Check your email"


@pytest.fixture
def mail(settings: Settings) -> Iterator[tuple[Flask, Inbox]]:
    with smtp_server() as (url, inbox):
        app = mail_app(settings, url)
        yield app, inbox
        app.extensions["authserver.db"].dispose()


def test_sign_up_then_verify_then_sign_in(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    browser = app.test_client()
    answer = sign_up(browser, "bora", "bora@example.com")
    assert answer.status_code == 200 and CHECK_EMAIL in answer.get_data(as_text=True)
    refused = sign_in(browser, "bora", "a fine password")
    assert refused.status_code == 401
    assert "Confirm your email address first" in refused.get_data(as_text=True)
    delivered(app)
    mail_sent = inbox.to("bora@example.com")[-1]
    assert mail_sent["From"] == "authserver@authserver.test"
    assert mail_sent.get_body(("html",)) is not None  # an HTML alternative too
    link = inbox.last_link("bora@example.com")
    assert link.startswith("http://authserver.test/account/verify?token=")
    verified = browser.get(path_of(link))
    assert verified.status_code == 200 and "bora@example.com" in verified.get_data(as_text=True)
    assert browser.get(path_of(link)).status_code == 400  # single use
    signed_in = sign_in(browser, "bora", "a fine password")
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/account")
    page = browser.get("/account").get_data(as_text=True)
    assert "bora@example.com" in page and "verified" in page


def test_the_password_grant_waits_for_the_verification_too(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    creds = make_client(app, grant_types=["password"])
    sign_up(app.test_client(), "bora", "bora@example.com")
    form = {"username": "bora", "password": "a fine password"}
    refused = password_grant(app.test_client(), creds, **form)
    assert refused.status_code == 400 and "not verified" in refused.get_json()["error_description"]
    open_link(app.test_client(), app, inbox, "bora@example.com")
    assert password_grant(app.test_client(), creds, **form).status_code == 200


def test_a_taken_email_gets_the_same_answer_and_its_owner_a_reset_link(
        mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app, email="alice@example.com")
    taken = sign_up(app.test_client(), "newcomer", "Alice@Example.com")
    fresh = sign_up(app.test_client(), "another", "fresh@example.com")
    assert taken.status_code == fresh.status_code == 200
    assert taken.get_data(as_text=True).replace("Alice@Example.com", "X") == \
        fresh.get_data(as_text=True).replace("fresh@example.com", "X").replace(
            _csrf_of(fresh), _csrf_of(taken))
    delivered(app)
    owner_mail = inbox.to("alice@example.com")[-1]
    assert "already has one" in owner_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/account/reset?token=" in inbox.last_link("alice@example.com")
    assert sign_in(app.test_client(), "newcomer", "a fine password").status_code == 401


def _csrf_of(response: object) -> str:
    from .helpers import csrf
    try:
        return csrf(response.get_data(as_text=True))  # type: ignore[attr-defined]
    except AssertionError:
        return ""


def test_a_taken_username_is_said_beside_its_field(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app)
    answer = sign_up(app.test_client(), "alice", "someone@example.com")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="username-error"' in html and "This username is taken" in html
    delivered(app)
    assert inbox.to("someone@example.com") == []


def test_bad_sign_up_fields_are_refused_beside_each_field_and_nothing_is_written(
        mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    answer = sign_up(app.test_client(), "no spaces", "not-an-email", "short")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    for field in ("username", "email", "password"):
        assert f'id="{field}-error"' in html
    assert sign_up(app.test_client(), "fine", "fine@example.com").status_code == 200


def test_sign_up_without_its_csrf_token_is_refused(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    answer = app.test_client().post("/account/signup", data={
        "username": "bora", "email": "bora@example.com", "password": "a fine password"})
    assert answer.status_code == 400
    assert sign_up(app.test_client(), "bora", "bora@example.com").status_code == 200


def test_sign_up_is_throttled_per_address(mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    make_user(app, email="taken@example.com")  # (a taken address: no password hashed per try)
    client = app.test_client()
    answers = [sign_up(client, f"user{i}", "taken@example.com").status_code for i in range(11)]
    assert answers[:10] == [200] * 10 and answers[10] == 429


def test_sign_up_is_off_by_default(client: FlaskClient) -> None:
    assert client.get("/account/signup").status_code == 404
    assert client.get("/account/forgot").status_code == 404  # no mail configured either
    login = client.get("/account/login").get_data(as_text=True)
    assert "/account/signup" not in login and "/account/forgot" not in login


def test_the_login_page_links_to_sign_up_and_reset_when_they_exist(
        mail: tuple[Flask, Inbox]) -> None:
    app, _ = mail
    login = app.test_client().get("/account/login").get_data(as_text=True)
    assert 'href="/account/signup"' in login and 'href="/account/forgot"' in login


def test_forgot_answers_the_same_for_known_and_unknown_addresses(
        mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app, email="alice@example.com")
    known = post_form(app.test_client(), "/account/forgot", {"email": "alice@example.com"})
    unknown = post_form(app.test_client(), "/account/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace("alice", "X") == \
        unknown.get_data(as_text=True).replace("nobody", "X")
    delivered(app)
    assert len(inbox.to("alice@example.com")) == 1 and inbox.to("nobody@example.com") == []


def test_reset_end_to_end_ends_sessions_and_refresh_families(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app, email="alice@example.com")
    creds = make_client(app, grant_types=["password", "refresh_token"])
    tokens = password_grant(app.test_client(), creds, scope="openid offline_access").get_json()
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "alice", PASSWORD).status_code == 303
    person = app.test_client()
    post_form(person, "/account/forgot", {"email": "alice@example.com"})
    link = open_link(person, app, inbox, "alice@example.com")
    assert link.status_code == 200 and 'name="password"' in link.get_data(as_text=True)
    reset_path = path_of(inbox.last_link("alice@example.com"))
    token = reset_path.split("token=")[1]
    short = post_form(person, reset_path, {"password": "short", "token": token})
    assert short.status_code == 400 and 'id="password-error"' in short.get_data(as_text=True)
    done = post_form(person, reset_path, {"password": "a brand new one", "token": token})
    assert done.status_code == 200 and "Password changed" in done.get_data(as_text=True)
    assert elsewhere.get("/account").status_code == 303  # that sign-in ended
    assert refresh(app.test_client(), creds, tokens["refresh_token"]).status_code == 400
    assert sign_in(app.test_client(), "alice", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "alice", "a brand new one").status_code == 303
    again = person.post("/account/reset", data={"password": "yet another one", "token": token,
                                                 "csrf_token": _csrf_of(link)})
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    with app.test_request_context():
        from authserver.store.users import find_user
        store = app.extensions["authserver.store"]
        assert find_user(store.session(), "alice").email_verified is True
        store.close()


def test_a_newer_reset_link_voids_the_older_and_links_expire_and_tampered_ones_fail(
        mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app, email="alice@example.com")
    client = app.test_client()
    post_form(client, "/account/forgot", {"email": "alice@example.com"})
    delivered(app)
    first = path_of(inbox.last_link("alice@example.com"))
    post_form(client, "/account/forgot", {"email": "alice@example.com"})
    delivered(app)
    second = path_of(inbox.last_link("alice@example.com"))
    voided = client.get(first)
    assert voided.status_code == 400 and "replaced by a newer one" in voided.get_data(as_text=True)
    tampered = client.get(second[:-3] + "xyz")
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)
    assert client.get(second).status_code == 200
    advance_clock(app, 1801)
    expired = client.get(second)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)


def test_asking_for_reset_mails_is_throttled_per_account(mail: tuple[Flask, Inbox]) -> None:
    app, inbox = mail
    make_user(app, email="alice@example.com")
    codes = [post_form(app.test_client(), "/account/forgot",
                       {"email": "alice@example.com"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    unknown = [post_form(app.test_client(), "/account/forgot",
                         {"email": "nobody@example.com"}).status_code for _ in range(4)]
    assert unknown == codes  # the same for an address nobody has
    delivered(app)
    assert len(inbox.to("alice@example.com")) == 3


def test_a_reset_keeps_the_authenticator_app(mail: tuple[Flask, Inbox]) -> None:
    """A new password by the mailed link: the second factor stays, and is still asked for."""
    import time

    import pyotp

    from authserver.operations import mfa, users

    app, inbox = mail
    make_user(app, email="alice@example.com")
    with app.extensions["authserver.db"].session() as session:
        alice = users.find(session, "alice")
        started = mfa.begin_totp(session, alice, issuer_host="example.com", passphrase=None)
        now = int(time.time())
        mfa.confirm_totp(session, alice, pyotp.TOTP(started.secret).at(now), passphrase=None,
                         now=now)
    person = app.test_client()
    post_form(person, "/account/forgot", {"email": "alice@example.com"})
    open_link(person, app, inbox, "alice@example.com")
    reset_path = path_of(inbox.last_link("alice@example.com"))
    done = post_form(person, reset_path, {"password": "a brand new one",
                                          "token": reset_path.split("token=")[1]})
    assert done.status_code == 200
    with app.extensions["authserver.db"].session() as session:
        assert mfa.has_totp(session, users.find(session, "alice"))
    second_step = sign_in(app.test_client(), "alice", "a brand new one")
    assert second_step.status_code == 200 and 'name="code"' in second_step.get_data(as_text=True)
