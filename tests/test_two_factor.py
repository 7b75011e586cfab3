# ruff: noqa: F811  (the fixtures imported from two_factor_support are parameters here)
"""Two-factor sign-in (INTERFACE.md "Two-factor sign-in"): an authenticator app set up at
/account and asked for after the password, its codes accepted once and throttled, recovery
codes, acr/amr in ID tokens, step-up (acr_values, an essential acr), --require-mfa with a
set-up during the sign-in, and `user mfa list|reset`; over HTTP to the app, on SQLite and
PostgreSQL, codes made by pyotp as a phone's app makes them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp

from authserver import events

from .browser import REDIRECT, Browser, RelyingParty, hidden_fields, query
from .helpers import csrf, pkce
from .support import ServerProcess
from .two_factor_support import (  # noqa: F401 (fixtures and helpers)
    PASSWORD,
    Person,
    account_sign_in,
    finish,
    person,
    post_code,
    rp,
    set_up_totp,
    signed_in,
    start,
    url,
)
from .verifier import IndependentVerifier

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


def test_an_app_set_up_at_the_account_is_asked_for_after_the_password(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    answer, verifier = start(server, rp, person)
    claims = finish(server, rp, person, answer, verifier)
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]

    set_up_totp(server, person)
    fresh = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page, verifier = start(server, rp, fresh)
        assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
        assert not signed_in(server, fresh)  # the password alone made no sign-in
        claims = finish(server, rp, fresh, post_code(server, fresh, page, fresh.code()), verifier)
        assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
        assert signed_in(server, fresh)
    finally:
        fresh.browser.close()
    metadata = server.http.get("/.well-known/openid-configuration").json()
    assert metadata["acr_values_supported"] == ["phr", "2", "1"]


def test_a_code_is_accepted_once_and_wrong_codes_are_throttled(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    # The audit trail's events as the app records them: where its lines go is the process's
    # first choice (an earlier module's in-process CLI may have pointed it at a file).
    audited: list[str] = []

    def receive(name: str, outcome: str, fields: dict[str, Any]) -> None:
        audited.append(outcome)

    events.security_event.connect(receive)
    set_up_totp(server, person)
    replayed = person.totp.generate_otp(person.used_step)  # type: ignore[union-attr]
    fresh = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page, _ = start(server, rp, fresh)
        again = post_code(server, fresh, page, replayed)
        assert again.status_code == 400 and "wrong or was used already" in again.text
        assert 'aria-invalid="true"' in again.text and not signed_in(server, fresh)
        for _ in range(4):  # five wrong codes in all: the limit of failed sign-ins
            again = post_code(server, fresh, again, "000000" if replayed != "000000" else "111111")
            assert again.status_code == 400
        refused = post_code(server, fresh, again, fresh.code())
        assert refused.status_code == 400 and "Too many wrong codes" in refused.text
        assert not signed_in(server, fresh)
    finally:
        fresh.browser.close()
        events.security_event.disconnect(receive)
    assert "otp_wrong" in audited and "otp_throttled" in audited


def test_recovery_codes_sign_in_once_each(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    set_up_totp(server, person)
    first, second = person.recovery[0], person.recovery[1]
    for code in (first, second.upper().replace("-", " ")):  # typed as people type them
        other = Person(Browser(server, person.browser.username, PASSWORD))
        try:
            page, verifier = start(server, rp, other)
            claims = finish(server, rp, other, post_code(server, other, page, code), verifier)
            assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == "2"
        finally:
            other.browser.close()
    page, _ = start(server, rp, Person(Browser(server, person.browser.username, PASSWORD)))
    used = post_code(server, person, page, first)
    # A code posted to this browser's own page only: the other browser's interaction is gone.
    assert used.status_code in (400, 404)
    other = Person(Browser(server, person.browser.username, PASSWORD))
    try:
        page, _ = start(server, rp, other)
        used = post_code(server, other, page, first)
        assert used.status_code == 400 and "wrong or was used already" in used.text
    finally:
        other.browser.close()
    listed = server.cli_json("user", "mfa", "list", person.browser.username, "--json")
    assert listed["recovery_codes_left"] == 8 and listed["totp"] is not None


def test_step_up_asks_a_signed_in_user_for_the_missing_factor(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    set_up_totp(server, person)  # signed in at /account with the password, then set up
    answer, verifier = start(server, rp, person)  # no acr asked: the sign-in goes on
    assert finish(server, rp, person, answer, verifier)["acr"] == "1"
    page, verifier = start(server, rp, person, acr_values="2 1")
    assert 'name="password"' not in page.text and 'name="code"' in page.text
    claims = finish(server, rp, person, post_code(server, person, page, person.code()), verifier)
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
    # The sign-in is two factors now: a request for 1 may be answered 2, and 2 asks nothing.
    answer, verifier = start(server, rp, person, acr_values="2")
    assert finish(server, rp, person, answer, verifier)["acr"] == "2"


def test_acr_values_a_user_cannot_reach_are_no_error(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    answer, verifier = start(server, rp, person, acr_values="phr 2")
    claims = finish(server, rp, person, answer, verifier)
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]


def test_an_essential_acr_is_met_with_the_factor_or_refused(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    two = json.dumps({"id_token": {"acr": {"essential": True, "values": ["2"]}}})
    refused, _ = start(server, rp, person, claims=two)  # no second factor to give
    found = query(refused)
    assert found["error"] == "unmet_authentication_requirements" and found["state"] == "st"
    assert not signed_in(server, person)

    set_up_totp(server, person)
    page, verifier = start(server, rp, person, claims=two)  # a step-up of /account's sign-in
    claims = finish(server, rp, person, post_code(server, person, page, person.code()), verifier)
    assert claims["acr"] == "2"
    one = json.dumps({"id_token": {"acr": {"essential": True, "values": ["1"]}}})
    answer, verifier = start(server, rp, person, claims=one)
    assert finish(server, rp, person, answer, verifier)["acr"] == "1"  # one of those asked
    phr = json.dumps({"id_token": {"acr": {"essential": True, "values": ["phr"]}}})
    assert query(start(server, rp, person, claims=phr)[0])["error"] == \
        "unmet_authentication_requirements"


def test_a_client_that_requires_two_factors_sets_up_the_app_during_the_sign_in(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    strict = server.cli_json("client", "create", "--name", "strict", "--grant-type",
                             "authorization_code", "--redirect-uri", REDIRECT, "--require-mfa")
    assert strict["require_mfa"] is True
    strict_rp = RelyingParty(server, strict["client_id"], strict["client_secret"])
    page, verifier = start(server, strict_rp, person)
    assert "<svg" in page.text and not signed_in(server, person)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    person.totp = pyotp.TOTP(secret.group(1).replace(" ", ""))
    wrong = post_code(server, person, page, "12345")
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text
    codes = post_code(server, person, wrong, person.code())
    assert codes.status_code == 200 and len(re.findall(r"<li><code>", codes.text)) == 10
    claims = finish(server, strict_rp, person,
                    person.http.post(url(server, codes), data=hidden_fields(codes.text)), verifier)
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]

    # The operator's view and reset; a new password keeps the app.
    name = person.browser.username
    server.cli("user", "set-password", name, "--password-stdin", stdin=PASSWORD + "\n")
    listed = server.cli_json("user", "mfa", "list", name, "--json")
    assert listed["totp"] is not None and listed["recovery_codes_left"] == 10
    server.cli("user", "mfa", "reset", name, in_process=False)  # its own audit trail
    audit = (Path(server.env["AUTHSERVER_INSTANCE_DIR"]) / "audit.log").read_text()
    assert "admin.user_mfa_reset" in audit and name in audit
    listed = server.cli_json("user", "mfa", "list", name, "--json")
    assert listed["totp"] is None and listed["recovery_codes_left"] == 0
    unknown = server.cli("user", "mfa", "list", "nobody-here", check=False)
    assert unknown.returncode == 2


def test_codes_posted_where_no_password_was_given_are_refused_with_a_page(
    server: ServerProcess, rp: RelyingParty, person: Person
) -> None:
    set_up_totp(server, person)
    page, _ = start(server, rp, person, acr_values="2")
    for bad in ("", "abc", "1" * 5000, "00000O"):
        answer = post_code(server, person, page, bad)
        assert answer.status_code == 400 and 'class="field-error"' in answer.text, bad
    # Another browser, with its own password given, cannot post to this one's interaction.
    intruder = Person(Browser(server, person.browser.username, PASSWORD))
    try:
        stolen = intruder.http.post(url(server, page), data={"csrf_token": csrf(page.text),
                                                             "code": person.code()})
        assert stolen.status_code in (400, 404) and "Traceback" not in stolen.text
        # Nothing held in a fresh interaction: back to the password.
        verifier, challenge = pkce()
        login = intruder.http.get(f"{server.base_url}/oauth/authorize?"
                                  + urlencode(rp.request(challenge)))
        code_url = url(server, login).replace("/login", "/code")
        early = intruder.http.post(code_url, data={"csrf_token": csrf(login.text),
                                                   "code": "123456"})
        assert early.status_code == 401 and 'name="password"' in early.text
    finally:
        intruder.browser.close()


def test_the_password_grant_refuses_a_user_with_a_second_factor(
    server: ServerProcess, person: Person
) -> None:
    app = server.cli_json("client", "create", "--name", "first party", "--grant-type", "password")
    form = {"grant_type": "password", "username": person.browser.username,
            "password": PASSWORD, "scope": "openid"}
    auth = (app["client_id"], app["client_secret"])
    assert server.http.post("/oauth/token", auth=auth, data=form).status_code == 200
    set_up_totp(server, person)
    refused = server.http.post("/oauth/token", auth=auth, data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_the_account_sign_in_asks_the_code_too(server: ServerProcess, person: Person) -> None:
    set_up_totp(server, person)
    fresh = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page = account_sign_in(server, fresh)
        assert page.status_code == 200 and not signed_in(server, fresh)
        assert post_code(server, fresh, page, fresh.code()).status_code == 303
        assert signed_in(server, fresh)
    finally:
        fresh.browser.close()


def test_a_device_of_a_client_that_requires_two_factors_is_approved_after_the_code(
    server: ServerProcess, person: Person
) -> None:
    tv = server.cli_json("client", "create", "--name", "strict TV", "--grant-type",
                         "urn:ietf:params:oauth:grant-type:device_code", "--auth-method", "none",
                         "--scope", "openid", "--require-mfa")
    set_up_totp(server, person)
    started = server.http.post("/oauth/device_authorization",
                               data={"client_id": tv["client_id"], "scope": "openid"}).json()
    fresh = Person(Browser(server, person.browser.username, PASSWORD), person.totp,
                   person.used_step)
    try:
        page = fresh.http.get(f"{server.base_url}/device",
                              params={"user_code": started["user_code"]})
        login = fresh.http.post(f"{server.base_url}/device", data={
            "user_code": started["user_code"], "csrf_token": csrf(page.text)})
        code_page = fresh.http.post(url(server, login), data={
            "csrf_token": csrf(login.text), "username": fresh.browser.username,
            "password": PASSWORD})
        consent = post_code(server, fresh, code_page, fresh.code())
        assert 'name="decision"' in consent.text, consent.text
        done = fresh.http.post(url(server, consent),
                               data={**hidden_fields(consent.text), "decision": "allow"})
        assert done.status_code == 200
    finally:
        fresh.browser.close()
    tokens = server.http.post("/oauth/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": started["device_code"], "client_id": tv["client_id"]})
    assert tokens.status_code == 200, tokens.text
    claims = IndependentVerifier(server.http, server.base_url).verify(
        tokens.json()["id_token"], audience=tv["client_id"])
    assert claims["acr"] == "2" and claims["amr"] == ["pwd", "otp", "mfa"]
