"""The pages and mails in English and Korean (ui_locales, then Accept-Language), the shipped
catalogs, and a theme's templates and static files replacing the built-in ones."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

import authserver
from authserver import create_app
from authserver.config import Settings

from .account_helpers import delivered, mail_app, post_form
from .helpers import REDIRECT, make_client, make_user, pkce
from .mail_server import smtp_server

CATALOGS = Path(authserver.__file__).parent / "translations"


def test_every_string_has_a_korean_translation_and_the_shipped_mo_matches() -> None:
    template = read_po((CATALOGS / "messages.pot").open("rb"))
    korean = read_po((CATALOGS / "ko/LC_MESSAGES/messages.po").open("rb"))
    compiled = read_mo((CATALOGS / "ko/LC_MESSAGES/messages.mo").open("rb"))
    ids = {m.id for m in template if m.id}
    assert ids and all(korean.get(i) and korean.get(i).string for i in ids)
    assert all(compiled.get(i) and _forms(compiled.get(i).string) == _forms(korean.get(i).string)
               for i in ids)


def _forms(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A translation's forms: a plural's are a tuple in a .po and a list in a .mo."""
    return (string,) if isinstance(string, str) else tuple(string)


def test_english_by_default_with_html_lang(client: FlaskClient) -> None:
    html = client.get("/account/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


def test_korean_by_accept_language(client: FlaskClient) -> None:
    html = client.get("/account/login", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}
                      ).get_data(as_text=True)
    assert '<html lang="ko">' in html and "로그인" in html and "Username" not in html


def test_ui_locales_comes_before_accept_language(client: FlaskClient) -> None:
    korean = client.get("/account/login?ui_locales=ko-KR", headers={"Accept-Language": "en"})
    english = client.get("/account/login?ui_locales=fr%20en", headers={"Accept-Language": "ko"})
    assert '<html lang="ko">' in korean.get_data(as_text=True)
    assert '<html lang="en">' in english.get_data(as_text=True)


def test_the_interaction_pages_speak_the_stored_requests_ui_locales(client: FlaskClient) -> None:
    app = client.application
    make_user(app)
    client_id, _ = make_client(app, grant_types=["authorization_code"],
                               redirect_uris=[REDIRECT], auth_method="none")
    _, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid profile", "state": "s", "code_challenge": challenge,
                       "code_challenge_method": "S256", "ui_locales": "ko"})
    login = client.get(f"/oauth/authorize?{query}", headers={"Accept-Language": "en"})
    html = login.get_data(as_text=True)
    assert '<html lang="ko">' in html and "로그인" in html
    wrong = client.post(html.split('action="')[1].split('"')[0].replace("&amp;", "&"), data={
        "username": "alice", "password": "wrong one", "csrf_token": html.split(
            'name="csrf_token" value="')[1].split('"')[0]}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 401
    assert "사용자 이름과 비밀번호가 일치하지 않습니다" in wrong.get_data(as_text=True)


def test_mails_are_in_the_language_of_the_page_that_sent_them(settings: Settings) -> None:
    with smtp_server() as (url, inbox):
        app = mail_app(settings, url)
        make_user(app, email="alice@example.com")
        post_form(app.test_client(), "/account/forgot", {"email": "alice@example.com"},
                  headers={"Accept-Language": "ko"})
        delivered(app)
        sent = inbox.to("alice@example.com")[-1]
        assert sent["Subject"] == "비밀번호 재설정"
        assert "새 비밀번호" in sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        app.extensions["authserver.db"].dispose()


@pytest.fixture
def themed(settings: Settings, tmp_path: Path) -> FlaskClient:
    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "base.html").write_text(
        '<!doctype html><html lang="{{ lang }}"><body class="acme">'
        '<header>ACME</header>{% block content %}{% endblock %}</body></html>')
    (theme / "static" / "style.css").write_text("body { color: purple }")
    return create_app(settings.override(theme_dir=str(theme))).test_client()


def test_a_theme_replaces_templates_and_static_files_of_the_same_name(themed: FlaskClient) -> None:
    html = themed.get("/account/login").get_data(as_text=True)
    assert '<body class="acme">' in html and "ACME" in html and 'name="password"' in html
    assert themed.get("/static/style.css").get_data(as_text=True) == "body { color: purple }"
    assert themed.get("/static/../../etc/passwd").status_code == 404
