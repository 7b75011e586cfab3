"""The second factors' two limits are settings (README "Configuration"): how recent a sign-in
must be to add a factor without the password (AUTHSERVER_RECENT_SIGN_IN_MAX_AGE) and how many
wrong codes an account gets whatever the address (AUTHSERVER_WRONG_CODE_LIMIT). Over HTTP to
the app on SQLite and PostgreSQL with both set; a bad value stops `serve` with exit 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from authserver.models import LoginSession

from .helpers import csrf
from .support import AUTHSERVER, ServerProcess
from .test_serve_start import _env
from .two_factor_support import (  # noqa: F401 (fixtures)
    PASSWORD,
    Person,
    account_sign_in,
    password_given_from,
    person,
    set_up_totp,
)

IN_PROCESS = True
SERVER_ENV = {"AUTHSERVER_RECENT_SIGN_IN_MAX_AGE": "90", "AUTHSERVER_WRONG_CODE_LIMIT": "3/3600"}


def age_sign_ins(server: ServerProcess, seconds: int) -> None:
    with server.app.extensions["authserver.db"].session() as session:  # type: ignore[attr-defined]
        session.execute(update(LoginSession).values(auth_time=LoginSession.auth_time - seconds))
        session.commit()


def test_a_sign_in_older_than_the_setting_needs_the_password_to_add_a_factor(
        server: ServerProcess, person: Person) -> None:  # noqa: F811
    assert account_sign_in(server, person).status_code == 303
    age_sign_ins(server, 60)  # within 90 seconds: no password asked
    account = person.http.get(f"{server.base_url}/account")
    assert 'id="totp_setup_password"' not in account.text
    age_sign_ins(server, 60)  # 120 seconds: under the 300 default, over the setting
    account = person.http.get(f"{server.base_url}/account")
    assert 'id="totp_setup_password"' in account.text
    refused = person.http.post(f"{server.base_url}/account/totp",
                               data={"csrf_token": csrf(account.text)})
    assert refused.status_code == 401, refused.text
    assert "Enter your password: you signed in more than 90 seconds ago." in refused.text
    shown = person.http.post(f"{server.base_url}/account/totp", data={
        "csrf_token": csrf(account.text), "totp_setup_password": PASSWORD})
    assert shown.status_code == 200 and 'id="totp-secret"' in shown.text


def test_wrong_codes_past_the_setting_are_refused_from_any_address(
        server: ServerProcess, person: Person) -> None:  # noqa: F811
    """3 wrong codes an hour per account (the default is 10): two from one address, one from
    a second; then even the right code from a third address waits."""
    set_up_totp(server, person)
    answers = []
    for address, codes in (("10.1.0.1", ["000000", "000000"]), ("10.1.0.2", ["000000"]),
                           ("10.1.0.3", [person.code()])):
        http, page = password_given_from(server, person, address)  # type: ignore[arg-type]
        try:
            for code in codes:
                page = http.post("/account/login/code",
                                 data={"csrf_token": csrf(page.text), "code": code})
                answers.append(("Too many wrong codes" in page.text, page.status_code))
        finally:
            http.close()
    assert answers == [(False, 400), (False, 400), (False, 400), (True, 400)], answers


@pytest.mark.parametrize(("name", "raw", "words"), [
    ("AUTHSERVER_RECENT_SIGN_IN_MAX_AGE", "soon", "must be a whole number of seconds"),
    ("AUTHSERVER_RECENT_SIGN_IN_MAX_AGE", "0", "must be at least 1"),
    ("AUTHSERVER_RECENT_SIGN_IN_MAX_AGE", "86401", "must be at most 86400 seconds"),
    ("AUTHSERVER_WRONG_CODE_LIMIT", "10", "must be COUNT/SECONDS with both at least 1 "
                                          "(such as 10/3600)"),
    ("AUTHSERVER_WRONG_CODE_LIMIT", "0/3600", "must be COUNT/SECONDS"),
])
def test_a_bad_value_stops_serve_naming_it(tmp_path: Path, key_template: Path, name: str,
                                            raw: str, words: str) -> None:
    result = subprocess.run([*AUTHSERVER, "serve", "--port", "1", "--workers", "1"],
                            cwd=tmp_path, env={**_env(tmp_path, key_template), name: raw},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"{name} {words}" in result.stderr, result.stderr
    assert not (tmp_path / "serve.db").exists()
