"""Codes typed in other scripts' digits: str.isdigit() says yes to "١٢٣٤٥٦" (Arabic-Indic) or
"１２３４５６" (full width), and hmac.compare_digest raises TypeError on a non-ASCII str, so
such a code was a 500 at the set-up's confirmation and at the sign-in's second step. It is a
wrong code (the app shows ASCII digits), said beside the field."""

from __future__ import annotations

import re

import pyotp
import pytest

from .browser import Browser
from .support import ServerProcess
from .two_factor_support import (  # noqa: F401 (fixtures)
    PASSWORD,
    Person,
    account_sign_in,
    csrf,
    person,
    post_code,
    set_up_totp,
    signed_in,
)

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)
OTHER_DIGITS = ["١٢٣٤٥٦", "１２３４５６"]


@pytest.mark.parametrize("code", OTHER_DIGITS)
def test_a_code_in_other_digits_is_a_wrong_code_at_sign_in(
        server: ServerProcess, person: Person, code: str) -> None:  # noqa: F811
    set_up_totp(server, person)
    fresh = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page = account_sign_in(server, fresh)
        answer = post_code(server, fresh, page, code)
        assert answer.status_code == 400, answer.text
        assert 'aria-invalid="true"' in answer.text and not signed_in(server, fresh)
        assert post_code(server, fresh, answer, fresh.code()).status_code == 303
    finally:
        fresh.browser.close()
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("code", OTHER_DIGITS)
def test_a_code_in_other_digits_is_a_wrong_code_at_the_set_up(
        server: ServerProcess, person: Person, code: str) -> None:  # noqa: F811
    assert account_sign_in(server, person).status_code == 303
    account = person.http.get(f"{server.base_url}/account")
    shown = person.http.post(f"{server.base_url}/account/totp",
                             data={"csrf_token": csrf(account.text)})
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', shown.text)
    assert shown.status_code == 200 and secret, shown.text
    answer = person.http.post(f"{server.base_url}/account/totp/confirm",
                              data={"csrf_token": csrf(shown.text), "code": code})
    assert answer.status_code == 400 and 'aria-invalid="true"' in answer.text, answer.text
    person.totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    done = person.http.post(f"{server.base_url}/account/totp/confirm",
                            data={"csrf_token": csrf(answer.text), "code": person.code()})
    assert done.status_code == 200 and "<code>" in done.text, done.text
    assert "Traceback" not in server.log()
