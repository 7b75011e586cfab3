"""The operator's own APIs in a user's grant, over HTTP to the app in process
(tests/inprocess.py) on SQLite and PostgreSQL: `resource` at /oauth/authorize, one grant over
several APIs giving one API per token (code and refresh), the consent page naming each API and
asking again for a new scope, and a grant without refresh tokens living as long as its tokens."""

# ruff: noqa: F811  (the apis fixture imported from own_apis_support is a parameter here)

from __future__ import annotations

import secrets
from typing import Any

from .browser import REDIRECT, Browser, RelyingParty, hidden_fields, query
from .helpers import csrf, pkce
from .own_apis_support import _api, _claims, _scope, apis  # noqa: F401 (the apis fixture)
from .support import ServerProcess

PASSWORD = "own-apis-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


# -- the code flow: a grant over several APIs, one API per token -----------------------------


def _web(server: ServerProcess, scope: str) -> RelyingParty:
    app = server.cli_json("client", "create", "--name", "web", "--grant-type",
                          "authorization_code", "--grant-type", "refresh_token",
                          "--redirect-uri", REDIRECT, "--scope", scope)
    return RelyingParty(server, app["client_id"], app["client_secret"])


def _refresh(server: ServerProcess, rp: RelyingParty, token: str, **form: str) -> Any:
    return server.http.post("/oauth/token", auth=(rp.client_id, rp.client_secret or ""), data={
        "grant_type": "refresh_token", "refresh_token": token, **form})


def test_one_grant_for_two_apis_gives_one_api_per_token(
    server: ServerProcess, apis: dict[str, Any], browser: Browser
) -> None:
    orders, billing = apis["orders"], apis["billing"]
    scope = f"openid {_scope(orders)} {_scope(billing)}"
    rp = _web(server, scope)
    verifier, challenge = pkce()
    params = {**rp.request(challenge, scope=scope),
              "resource": [orders["audience"], billing["audience"]]}
    url = f"{server.base_url}/oauth/authorize"
    login = browser.http.get(url, params=params)
    consent = browser.http.post(Browser.form_url(login), data={
        "username": browser.username, "password": browser.password, "csrf_token": csrf(login.text)})
    # The consent page names each API and shows the scopes' descriptions, escaped.
    assert orders["name"] in consent.text and billing["name"] in consent.text
    assert "See your &lt;b&gt;orders&lt;/b&gt;" in consent.text and "<b>orders" not in consent.text
    assert "See your invoices" in consent.text
    code = query(browser.http.post(Browser.form_url(consent), data={
        **hidden_fields(consent.text), "decision": "allow"}))["code"]

    without = rp.exchange(code, verifier)  # two APIs and no resource: which one?
    assert without.status_code == 400 and without.json()["error"] == "invalid_target"
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT, "resource": orders["audience"]}
    tokens = server.http.post("/oauth/token", auth=(rp.client_id, rp.client_secret or ""),
                              data=data).json()
    claims = _claims(tokens["access_token"])
    assert claims["aud"] == orders["audience"] and claims["scope"] == f"openid {_scope(orders)}"
    assert tokens["scope"] == claims["scope"]

    other = _refresh(server, rp, tokens["refresh_token"], resource=billing["audience"]).json()
    claims = _claims(other["access_token"])
    assert claims["aud"] == billing["audience"] and claims["scope"] == f"openid {_scope(billing)}"
    # The userinfo endpoint takes a token for any API, with openid.
    info = server.http.get("/oauth/userinfo",
                           headers={"Authorization": f"Bearer {other['access_token']}"})
    assert info.status_code == 200, info.text

    not_granted = _refresh(server, rp, other["refresh_token"], resource=f"{server.base_url}/api")
    assert not_granted.status_code == 400 and not_granted.json()["error"] == "invalid_target"


def test_authorize_with_an_unknown_resource_is_invalid_target(
    server: ServerProcess, apis: dict[str, Any], browser: Browser
) -> None:
    rp = _web(server, f"openid {_scope(apis['orders'])}")
    _, challenge = pkce()
    found = query(browser.authorize({**rp.request(challenge),
                                     "resource": "https://nobody.example.com"}))
    assert found["error"] == "invalid_target" and found["state"] == "st", found


def test_authorize_with_a_scope_outside_the_resources_is_invalid_scope(
    server: ServerProcess, apis: dict[str, Any], browser: Browser
) -> None:
    orders, billing = apis["orders"], apis["billing"]
    rp = _web(server, f"openid {_scope(orders)} {_scope(billing)}")
    _, challenge = pkce()
    found = query(browser.authorize({
        **rp.request(challenge, scope=f"openid {_scope(billing)}"),
        "resource": orders["audience"]}))
    assert found["error"] == "invalid_scope" and found["state"] == "st", found


def test_a_new_scope_asks_for_consent_again(
    server: ServerProcess, apis: dict[str, Any], browser: Browser
) -> None:
    orders = apis["orders"]
    rp = _web(server, f"openid {_scope(orders)} {_scope(orders, 1)}")
    rp.tokens(browser, scope=f"openid {_scope(orders)}")  # consented
    _, challenge = pkce()
    again = browser.http.get(f"{server.base_url}/oauth/authorize", params=rp.request(
        challenge, scope=f"openid {_scope(orders)}"))
    assert again.status_code == 302  # remembered
    more = browser.http.get(f"{server.base_url}/oauth/authorize", params=rp.request(
        challenge, scope=f"openid {_scope(orders)} {_scope(orders, 1)}"))
    assert 'name="decision"' in more.text


def test_a_grant_without_refresh_tokens_lives_as_long_as_its_apis_tokens(
    server: ServerProcess,
) -> None:
    """A user's token response belongs to a grant (its `grant_id`), which userinfo and
    introspection check. Without refresh tokens the grant lives as long as the access token:
    the API's own --access-token-ttl (two days here), not the server default (15 minutes),
    or housekeeping would prune the grant and refuse a token that has not expired."""
    from sqlalchemy import create_engine, text

    api = _api(server, "longlived", "read", ttl=2 * 86_400)
    app = server.cli_json("client", "create", "--name", "no-refresh", "--grant-type", "password",
                          "--scope", _scope(api))
    username = f"longlived-{secrets.token_hex(3)}"
    server.cli("user", "create", "--username", username, "--password-stdin", stdin=PASSWORD)
    answer = server.http.post("/oauth/token", auth=(app["client_id"], app["client_secret"]), data={
        "grant_type": "password", "username": username, "password": PASSWORD,
        "scope": _scope(api)})
    assert answer.status_code == 200, answer.text
    assert "refresh_token" not in answer.json()
    claims = _claims(answer.json()["access_token"])
    assert claims["exp"] - claims["iat"] == 2 * 86_400
    engine = create_engine(server.env["AUTHSERVER_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            grant_expires_at = conn.execute(
                text("SELECT expires_at FROM refresh_token_families WHERE id = :id"),
                {"id": claims["grant_id"]}).scalar_one()
    finally:
        engine.dispose()
    assert grant_expires_at >= claims["exp"]
