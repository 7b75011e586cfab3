# ruff: noqa: F811  (the fixtures imported from two_factor_support are parameters here)
"""Wrong second-factor codes and password checks, throttled per account across addresses,
with the wait said in minutes (NIST SP 800-63B §5.2.2)."""

from __future__ import annotations

import re

from .helpers import csrf
from .support import ServerProcess
from .two_factor_support import Person, password_given_from, person, set_up_totp  # noqa: F401 (fixtures)

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


def test_wrong_codes_from_many_addresses_are_throttled_per_account(
    server: ServerProcess, person: Person
) -> None:
    """Whoever types the codes had the password (what a second factor is for): counted per
    (account, address) only, each new address would bring 5 more guesses. Past 10 wrong codes
    an hour per account, every address is refused, even with the right code, and the page says
    the wait in minutes (NIST SP 800-63B §5.2.2). From the reviewer's finding."""
    set_up_totp(server, person)
    refused = 0
    for n in range(1, 6):
        http, page = password_given_from(server, person, f"10.0.0.{n}")
        try:
            tries = ["000000"] * 4 if n < 5 else [person.code()]
            for code in tries:
                page = http.post("/account/login/code",
                                 data={"csrf_token": csrf(page.text), "code": code})
                assert page.status_code == 400 and 'name="code"' in page.text, page.text
                if "Too many wrong codes" in page.text:
                    refused += 1
                    assert re.search(r"Try again in \d+ minutes?\.", page.text), page.text
            assert http.get("/account").status_code != 200
        finally:
            http.close()
    # 16 wrong codes from four addresses (4 each, under the per-address limit): the 11th on
    # are refused, and so is the right code from a fifth address.
    assert refused == 7, refused


def test_a_throttled_totp_removal_says_the_wait_in_words(
    server: ServerProcess, person: Person
) -> None:
    set_up_totp(server, person)
    account = person.http.get(f"{server.base_url}/account")
    for _ in range(6):
        account = person.http.post(f"{server.base_url}/account/totp/remove", data={
            "csrf_token": csrf(account.text), "totp_password": "not the password"})
    assert account.status_code == 429, account.text
    assert re.search(r"Try again in \d+ minutes?\.", account.text), account.text
    assert "seconds" not in account.text
