"""The operator's own APIs (RFC 8707, INTERFACE.md "Your own APIs"), each rule over HTTP to the
app in process (tests/inprocess.py) on SQLite and PostgreSQL: registration, `resource` at the
token endpoint and at /oauth/authorize, one API per token, the consent page, discovery. Changes
followed on every worker and a service in its own process are test_own_apis_serve.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from .browser import REDIRECT, Browser, RelyingParty, hidden_fields, query
from .helpers import csrf, pkce
from .support import ServerProcess

PASSWORD = "own-apis-password-1"
IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


def _api(server: ServerProcess, name: str, *scopes: str, ttl: int | None = None) -> dict[str, Any]:
    """A new API with a unique audience and scope names (prefixed by `name`)."""
    tag = secrets.token_hex(3)
    options = [option for scope in scopes for option in ("--scope", f"{name}{tag}:{scope}")]
    if ttl is not None:
        options += ["--access-token-ttl", str(ttl)]
    return server.cli_json("api", "create", "--audience", f"https://{name}{tag}.example.com",
                           "--name", f"{name.title()} {tag}", *options)


def _scope(api: dict[str, Any], index: int = 0) -> str:
    return str(api["scopes"][index]["name"])


@pytest.fixture(scope="module")
def apis(server: ServerProcess) -> Iterator[dict[str, dict[str, Any]]]:
    made = {"orders": _api(server, "orders", "read=See your <b>orders</b>", "write", ttl=120),
            "billing": _api(server, "billing", "read=See your invoices")}
    yield made
    assert "Traceback" not in server.log()


def _machine(server: ServerProcess, scope: str) -> tuple[str, str]:
    app = server.cli_json("client", "create", "--name", "machine", "--grant-type",
                          "client_credentials", "--scope", scope)
    return app["client_id"], app["client_secret"]


def _token(server: ServerProcess, auth: tuple[str, str], **form: Any) -> Any:
    return server.http.post("/oauth/token", auth=auth,
                            data={"grant_type": "client_credentials", **form})


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


# -- registration ---------------------------------------------------------------------------

def test_an_api_is_shown_as_registered(server: ServerProcess, apis: dict[str, Any]) -> None:
    orders = apis["orders"]
    shown = server.cli_json("api", "show", orders["audience"])
    assert shown == orders
    assert shown["access_token_ttl"] == 120 and shown["built_in"] is False
    assert shown["scopes"][0]["description"] == "See your <b>orders</b>"
    assert server.cli_json("api", "show", apis["billing"]["audience"])["access_token_ttl"] is None
    listed = server.cli_json("api", "list")["apis"]
    assert listed[0]["built_in"] is True and listed[0]["audience"] == f"{server.base_url}/api"
    assert {"notes:read", "notes:write"} == {s["name"] for s in listed[0]["scopes"]}
    assert orders["audience"] in {a["audience"] for a in listed}


@pytest.mark.parametrize(("options", "message"), [
    (["--audience", "orders.example.com"], "absolute https URI"),
    (["--audience", "http://orders.example.com"], "absolute https URI"),
    (["--audience", "https://orders.example.com/#top"], "fragment"),
    (["--audience", "https://dup.example.com", "--scope", "dup:x", "--scope", "dup:x"], "twice"),
    (["--audience", "https://oidc.example.com", "--scope", "email"], "OpenID scope"),
    (["--audience", "https://clash.example.com", "--scope", "notes:read"], "belongs to the API"),
    (["--audience", "https://space.example.com", "--scope", "a b"], "not a scope name"),
    (["--audience", "https://ttl.example.com", "--access-token-ttl", "0"], "at least 1"),
])
def test_bad_registrations_are_refused_with_nothing_written(
    server: ServerProcess, options: list[str], message: str
) -> None:
    before = server.cli_json("api", "list")
    defaults = {"--name": "Bad", "--scope": f"bad{secrets.token_hex(3)}:x"}
    args = list(options)
    for flag, value in defaults.items():
        if flag not in args:
            args += [flag, value]
    if "--audience" not in args:
        args += ["--audience", "https://bad.example.com"]
    result = server.cli("api", "create", *args, check=False)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert server.cli_json("api", "list") == before


def test_a_duplicate_audience_is_refused(server: ServerProcess, apis: dict[str, Any]) -> None:
    result = server.cli("api", "create", "--audience", apis["orders"]["audience"], "--name", "X",
                        "--scope", f"x{secrets.token_hex(3)}:y", check=False)
    assert result.returncode == 2 and "exists already" in result.stderr


def test_the_built_in_api_cannot_be_deleted(server: ServerProcess) -> None:
    result = server.cli("api", "delete", f"{server.base_url}/api", check=False)
    assert result.returncode == 2 and "cannot be deleted" in result.stderr


def test_clients_take_api_scopes_and_refuse_unknown_ones(
    server: ServerProcess, apis: dict[str, Any]
) -> None:
    ok = server.cli_json("client", "create", "--name", "ok", "--scope",
                         f"openid {_scope(apis['orders'])}", "--grant-type", "client_credentials")
    assert ok["scope"] == f"openid {_scope(apis['orders'])}"
    bad = server.cli("client", "create", "--name", "bad", "--scope", "orders:nothing",
                     check=False)
    assert bad.returncode == 2 and "unknown scope 'orders:nothing'" in bad.stderr


def test_discovery_lists_every_api_scope(server: ServerProcess, apis: dict[str, Any]) -> None:
    scopes = server.http.get("/.well-known/openid-configuration").json()["scopes_supported"]
    assert scopes[:6] == ["openid", "profile", "email", "address", "phone", "offline_access"]
    for api in apis.values():
        assert {s["name"] for s in api["scopes"]} <= set(scopes)


# -- the token endpoint ---------------------------------------------------------------------

def test_a_token_is_for_the_api_that_owns_its_scopes(
    server: ServerProcess, apis: dict[str, Any]
) -> None:
    orders = apis["orders"]
    auth = _machine(server, f"{_scope(orders)} {_scope(orders, 1)} notes:read")
    answer = _token(server, auth, scope=_scope(orders))
    assert answer.status_code == 200, answer.text
    claims = _claims(answer.json()["access_token"])
    assert claims["aud"] == orders["audience"] and claims["scope"] == _scope(orders)
    assert claims["exp"] - claims["iat"] == 120 == answer.json()["expires_in"]
    named = _token(server, auth, resource=orders["audience"])  # no scope: all of that API's
    assert set(_claims(named.json()["access_token"])["scope"].split()) == {
        _scope(orders), _scope(orders, 1)}


def test_no_api_scope_means_the_default_resource(server: ServerProcess) -> None:
    auth = _machine(server, "notes:read")
    claims = _claims(_token(server, auth).json()["access_token"])
    assert claims["aud"] == f"{server.base_url}/api" and claims["scope"] == "notes:read"
    assert claims["exp"] - claims["iat"] == 900


@pytest.mark.parametrize("case", ["unknown", "two", "two apis"])
def test_invalid_target_at_the_token_endpoint(
    server: ServerProcess, apis: dict[str, Any], case: str
) -> None:
    orders, billing = apis["orders"], apis["billing"]
    auth = _machine(server, f"{_scope(orders)} {_scope(billing)}")
    form: dict[str, Any] = {
        "unknown": {"resource": "https://nobody.example.com"},
        "two": {"resource": [orders["audience"], billing["audience"]]},
        "two apis": {"scope": f"{_scope(orders)} {_scope(billing)}"},
    }[case]
    answer = _token(server, auth, **form)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target", answer.text


def test_a_scope_of_another_api_than_the_resource_is_invalid_scope(
    server: ServerProcess, apis: dict[str, Any]
) -> None:
    orders, billing = apis["orders"], apis["billing"]
    auth = _machine(server, f"{_scope(orders)} {_scope(billing)}")
    answer = _token(server, auth, resource=orders["audience"], scope=_scope(billing))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"


def test_introspection_reports_the_audience(server: ServerProcess, apis: dict[str, Any]) -> None:
    orders = apis["orders"]
    auth = _machine(server, _scope(orders))
    token = _token(server, auth).json()["access_token"]
    found = server.http.post("/oauth/introspect", auth=auth, data={"token": token}).json()
    assert found["active"] is True and found["aud"] == orders["audience"]


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
