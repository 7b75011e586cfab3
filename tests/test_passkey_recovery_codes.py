"""Recovery codes come with the first passkey as with the authenticator app (README
"Two-factor sign-in"): the first second factor's answer carries 10 codes, once; the second
step after the password takes one when the passkey cannot be used; the codes go with the last
factor. Over HTTP (the Flask test client) on SQLite and PostgreSQL, a software authenticator,
the codes read as the page gets them."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from authserver.operations import mfa

from .account_helpers import sign_in
from .helpers import PASSWORD, csrf
from .passkey_support import ISSUER, add_passkey, app, passkey_ids, signed_in_browser, token_of  # noqa: F401
from .soft_authenticator import SoftAuthenticator

CODE = re.compile(r"^[a-z2-7]{4}(-[a-z2-7]{4}){3}$")


def left(app: Flask, username: str = "alice") -> int:  # noqa: F811
    from authserver.models import User
    with app.extensions["authserver.db"].session() as session:
        user = session.query(User).filter_by(username=username).one()
        return mfa.recovery_codes_left(session, user)


def second_step(app: Flask) -> tuple[FlaskClient, str]:  # noqa: F811
    browser = app.test_client()
    page = sign_in(browser, "alice", PASSWORD)
    assert page.status_code == 200, page.status_code
    return browser, page.get_data(as_text=True)


def test_the_first_passkey_comes_with_recovery_codes_shown_once(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    assert 'id="recovery-codes-new"' not in browser.get("/account").get_data(as_text=True)
    first = add_passkey(browser, SoftAuthenticator(ISSUER), "Phone")
    assert first.status_code == 200 and first.json["location"] == "/account", first.json
    codes = first.json["recovery_codes"]
    assert len(codes) == 10 == len(set(codes)) and all(CODE.match(c) for c in codes), codes
    assert left(app) == 10
    page = browser.get("/account").get_data(as_text=True)
    assert "10 recovery codes left." in page and 'id="recovery-codes-new"' in page
    assert not any(code in page for code in codes)  # shown once, in the answer only
    second = add_passkey(browser, SoftAuthenticator(ISSUER), "Key")
    assert second.status_code == 200 and second.json == {"location": "/account"}, second.json
    assert left(app) == 10


def test_a_recovery_code_is_the_second_step_when_the_passkey_is_lost(app: Flask) -> None:  # noqa: F811
    codes = add_passkey(signed_in_browser(app), SoftAuthenticator(ISSUER)).json["recovery_codes"]
    browser, page = second_step(app)
    assert 'id="passkey-second-factor"' in page and 'id="code"' in page
    assert "Code from your authenticator app" not in page and "Recovery code" in page
    wrong = browser.post("/account/login/code", data={"csrf_token": csrf(page),
                                                      "code": "aaaa-aaaa-aaaa-aaaa"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and 'id="code-error"' in html and 'aria-invalid="true"' in html
    assert browser.get("/account").status_code == 303
    done = browser.post("/account/login/code", data={"csrf_token": csrf(html),
                                                     "code": codes[0].upper()})
    assert done.status_code == 303 and browser.get("/account").status_code == 200
    assert left(app) == 9
    again, page = second_step(app)
    reused = again.post("/account/login/code", data={"csrf_token": csrf(page), "code": codes[0]})
    assert reused.status_code == 400 and again.get("/account").status_code == 303


def test_the_codes_go_with_the_last_factor_and_stay_while_one_is_left(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    add_passkey(browser, SoftAuthenticator(ISSUER))
    # The app set up beside the passkey makes new codes; removing it keeps them (the passkey
    # is still a factor), and the page says the passkey is still asked for.
    page = browser.get("/account").get_data(as_text=True)
    shown = browser.post("/account/totp", data={"csrf_token": csrf(page)}).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', shown)
    assert secret
    confirmed = browser.post("/account/totp/confirm", data={
        "csrf_token": csrf(shown), "code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()})
    assert confirmed.status_code == 200 and left(app) == 10
    removed = browser.post("/account/totp/remove", data={"csrf_token": token_of(browser),
                                                         "totp_password": PASSWORD})
    assert removed.status_code == 303 and left(app) == 10
    assert "Your passkey and your recovery codes are still asked for" in browser.get(
        "/account").get_data(as_text=True)
    # New codes with a passkey alone.
    renewed = browser.post("/account/recovery-codes", data={"csrf_token": token_of(browser)})
    assert renewed.status_code == 200
    assert len(re.findall(r"<li><code>", renewed.get_data(as_text=True))) == 10
    # The last passkey removed: the codes go, and none can be made.
    [passkey] = passkey_ids(browser)
    gone = browser.post("/account/passkeys/remove", data={"passkey": passkey,
                                                          "csrf_token": token_of(browser)})
    assert gone.status_code == 303 and left(app) == 0
    page = browser.get("/account").get_data(as_text=True)
    assert 'id="recovery-codes-new"' not in page
    refused = browser.post("/account/recovery-codes", data={"csrf_token": csrf(page)})
    assert refused.status_code == 409 and left(app) == 0
    # A first passkey again: new codes again.
    assert len(add_passkey(browser, SoftAuthenticator(ISSUER)).json["recovery_codes"]) == 10


def test_an_app_holder_gets_no_second_set_with_a_passkey(app: Flask) -> None:  # noqa: F811
    browser = signed_in_browser(app)
    page = browser.get("/account").get_data(as_text=True)
    shown = browser.post("/account/totp", data={"csrf_token": csrf(page)}).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', shown)
    assert secret
    browser.post("/account/totp/confirm", data={
        "csrf_token": csrf(shown), "code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()})
    added = add_passkey(browser, SoftAuthenticator(ISSUER))
    assert added.status_code == 200 and added.json == {"location": "/account"}
    assert left(app) == 10
