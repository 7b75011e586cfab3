"""The operator's own APIs (RFC 8707, INTERFACE.md "Your own APIs"), each rule over HTTP to the
app in process (tests/inprocess.py) on SQLite and PostgreSQL: registration, discovery, and
`resource` and scopes at the token endpoint (client credentials) and in introspection. The code
flow over several APIs is test_own_apis_grants.py; changes followed on every worker and a
service in its own process are test_served.py."""

# ruff: noqa: F811  (the apis fixture imported from own_apis_support is a parameter here)

from __future__ import annotations

import secrets
from typing import Any

import pytest

from .own_apis_support import _claims, _scope, apis  # noqa: F401 (the apis fixture)
from .support import ServerProcess

IN_PROCESS = True  # what the server answers, not the process (tests/inprocess.py)


def _machine(server: ServerProcess, scope: str) -> tuple[str, str]:
    app = server.cli_json("client", "create", "--name", "machine", "--grant-type",
                          "client_credentials", "--scope", scope)
    return app["client_id"], app["client_secret"]


def _token(server: ServerProcess, auth: tuple[str, str], **form: Any) -> Any:
    return server.http.post("/oauth/token", auth=auth,
                            data={"grant_type": "client_credentials", **form})


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
