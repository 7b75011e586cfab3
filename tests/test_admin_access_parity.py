"""One code path for APIs, roles and groups: what the CLI makes the administration API sees and
the reverse, and the CLI's refusals give the API the same verdict in the same words (the same
operations refuse them): exit 2 there, a 400, 404 or 409 problem naming the field here."""

# ruff: noqa: F811  (the fixtures imported from admin_access_support are parameters here)
from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from authserver.cli import main

from .admin_access_support import auth  # noqa: F401
from .admin_support import cli, problem  # noqa: F401
from .helpers import make_user

ORDERS = "https://orders.example.com"


def run(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def refused(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(main, list(args))
    assert result.exit_code == 2, result.output
    return str(result.output)


def test_apis_made_by_one_are_seen_by_the_other(cli: CliRunner, client: FlaskClient,
                                                 auth: dict[str, str]) -> None:
    by_cli = run(cli, "api", "create", "--audience", ORDERS, "--name", "Orders",
                 "--scope", "orders:read=Read orders", "--json")
    assert client.get(f"/admin/v1/apis/{by_cli['id']}", headers=auth).json == by_cli
    by_api = client.post("/admin/v1/apis", headers=auth, json={
        "audience": "https://stock.example.com", "name": "Stock",
        "scopes": [{"name": "stock:read"}], "access_token_ttl": 90}).json
    assert run(cli, "api", "show", "https://stock.example.com", "--json") == by_api
    listed = run(cli, "api", "list", "--json")["apis"]
    assert listed == client.get("/admin/v1/apis", headers=auth).json["items"]
    run(cli, "api", "update", "https://stock.example.com", "--name", "Stock v2")
    assert client.get(f"/admin/v1/apis/{by_api['id']}", headers=auth).json["name"] == "Stock v2"
    assert client.delete(f"/admin/v1/apis/{by_cli['id']}", headers=auth).status_code == 204
    assert "no API with audience" in refused(cli, "api", "show", ORDERS)
    run(cli, "api", "delete", "https://stock.example.com")
    problem(client.get(f"/admin/v1/apis/{by_api['id']}", headers=auth), 404, "id")


# (the CLI's options, the API's body, its status and field): the same refusal.
API_REFUSED = [
    (["--audience", "http://orders.example.com"], {"audience": "http://orders.example.com"},
     400, "audience"),
    (["--audience", ORDERS + "#x"], {"audience": ORDERS + "#x"}, 400, "audience"),
    (["--scope", "notes:read"], {"scopes": [{"name": "notes:read"}]}, 409, "scopes"),
    (["--scope", "openid"], {"scopes": [{"name": "openid"}]}, 400, "scopes"),
    (["--scope", "a\"b"], {"scopes": [{"name": "a\"b"}]}, 400, "scopes"),
    (["--access-token-ttl", "0"], {"access_token_ttl": 0}, 400, "access_token_ttl"),
    (["--name", " "], {"name": " "}, 400, "name"),
    (["--signing-alg", "ES256"], {"signing_alg": "ES256"}, 400, "signing_alg"),
]


@pytest.mark.parametrize(("options", "body", "status", "field"), API_REFUSED)
def test_the_clis_api_refusals_are_the_apis(cli: CliRunner, client: FlaskClient,
                                             auth: dict[str, str], options: list[str],
                                             body: dict[str, Any], status: int,
                                             field: str) -> None:
    defaults = {"--audience": ORDERS, "--name": "Orders", "--scope": "orders:read"}
    args = [arg for option, value in defaults.items() if option not in options
            for arg in (option, value)]
    output = refused(cli, "api", "create", *args, *options)
    detail = problem(client.post("/admin/v1/apis", headers=auth, json={
        "audience": ORDERS, "name": "Orders", "scopes": [{"name": "orders:read"}], **body}),
        status, field)["detail"]
    assert f"Error: {detail}" in output
    assert client.get("/admin/v1/apis", headers=auth).json["items"][2:] == []


def test_duplicates_and_the_built_in_apis_alike(cli: CliRunner, client: FlaskClient,
                                                auth: dict[str, str], app: Flask) -> None:
    run(cli, "api", "create", "--audience", ORDERS, "--name", "Orders", "--scope", "o:r")
    detail = problem(client.post("/admin/v1/apis", headers=auth, json={
        "audience": ORDERS, "name": "Orders", "scopes": [{"name": "o:w"}]}), 409,
        "audience")["detail"]
    assert f"Error: {detail}" in refused(cli, "api", "create", "--audience", ORDERS, "--name",
                                         "x", "--scope", "o:w")
    sample = app.extensions["authserver.settings"].api_audience
    detail = problem(client.delete("/admin/v1/apis/sample", headers=auth), 409)["detail"]
    assert f"Error: {detail}" in refused(cli, "api", "delete", sample)


def test_roles_and_groups_made_by_one_are_seen_by_the_other(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str], app: Flask,
        user: str) -> None:
    sample = app.extensions["authserver.settings"].api_audience
    role = run(cli, "role", "create", "--api", sample, "clerk", "--description", "Packs",
               "--json")
    assert client.get(f"/admin/v1/roles/{role['id']}", headers=auth).json == {
        **role, "grants": {"users": [], "groups": [], "clients": []}}
    group = run(cli, "group", "create", "staff", "--json")
    assert client.get(f"/admin/v1/groups/{group['id']}", headers=auth).json == group
    # The API grants and adds; the CLI sees it (and what alice's tokens will carry).
    client.post(f"/admin/v1/roles/{role['id']}/grants", headers=auth, json={"group": "staff"})
    client.post(f"/admin/v1/groups/{group['id']}/members", headers=auth, json={"user": "alice"})
    shown = run(cli, "group", "show", "staff", "--json")
    assert shown == client.get(f"/admin/v1/groups/{group['id']}", headers=auth).json
    assert shown["members"] == ["alice"] and shown["roles"] == {sample: ["clerk"]}
    assert run(cli, "user", "show", "alice", "--json")["roles"] == {sample: ["clerk"]}
    # The CLI grants; the API sees it.
    run(cli, "role", "grant", "--api", sample, "clerk", "--user", "alice")
    grants = client.get(f"/admin/v1/roles/{role['id']}", headers=auth).json["grants"]
    assert grants == {"users": ["alice"], "groups": ["staff"], "clients": []}
    by_api = client.post("/admin/v1/roles", headers=auth, json={
        "audience": sample, "name": "viewer"}).json
    assert [r for r in run(cli, "role", "list", "--json")["roles"] if r["name"] == "viewer"] \
        == [by_api]
    assert run(cli, "group", "list", "--json")["groups"] == client.get(
        "/admin/v1/groups", headers=auth).json["items"]
    run(cli, "group", "delete", "staff")
    problem(client.get(f"/admin/v1/groups/{group['id']}", headers=auth), 404, "id")
    assert client.delete(f"/admin/v1/roles/{role['id']}", headers=auth).status_code == 204
    assert "no role 'clerk'" in refused(cli, "role", "delete", "--api", sample, "clerk")


# The CLI's refusals (tests/test_roles_cli.py's BAD) and the same request to the API: (CLI
# arguments, method, path ({role} and {group} are the ids), body, status, field, the same
# words). Where the API names the object by its id and the CLI by its name, the verdict is the
# same but the words differ (False).
ROLE_REFUSED = [
    (["role", "create", "--api", "{sample}", "two words"], "post", "/roles",
     {"audience": "{sample}", "name": "two words"}, 400, "name", True),
    (["role", "create", "--api", "{sample}", "x" * 65], "post", "/roles",
     {"audience": "{sample}", "name": "x" * 65}, 400, "name", True),
    (["role", "create", "--api", "{sample}", "clerk"], "post", "/roles",
     {"audience": "{sample}", "name": "clerk"}, 409, "name", True),
    (["role", "create", "--api", "https://nowhere.example.com", "x"], "post", "/roles",
     {"audience": "https://nowhere.example.com", "name": "x"}, 404, "audience", True),
    (["role", "list", "--api", "https://nowhere.example.com"], "get",
     "/roles?audience=https://nowhere.example.com", None, 404, "audience", True),
    (["role", "delete", "--api", "{sample}", "ghost"], "delete", "/roles/999999", None, 404,
     "id", False),
    (["role", "grant", "--api", "{sample}", "clerk", "--user", "carol"], "post",
     "/roles/{role}/grants", {"user": "carol"}, 404, "user", True),
    (["role", "grant", "--api", "{sample}", "clerk", "--group", "ghosts"], "post",
     "/roles/{role}/grants", {"group": "ghosts"}, 404, "group", True),
    (["role", "grant", "--api", "{sample}", "clerk", "--client", "c0ffee"], "post",
     "/roles/{role}/grants", {"client": "c0ffee"}, 404, "client", True),
    (["role", "grant", "--api", "{sample}", "clerk", "--user", "alice"], "post",
     "/roles/{role}/grants", {"user": "alice"}, 409, "user", True),
    (["role", "grant", "--api", "{sample}", "clerk"], "post", "/roles/{role}/grants", {}, 400,
     "user", False),
    (["role", "revoke", "--api", "{sample}", "clerk", "--user", "bob"], "delete",
     "/roles/{role}/grants", {"user": "bob"}, 404, "user", True),
    (["group", "create", "staff"], "post", "/groups", {"name": "staff"}, 409, "name", True),
    (["group", "create", "a/b"], "post", "/groups", {"name": "a/b"}, 400, "name", True),
    (["group", "show", "ghosts"], "get", "/groups/999999", None, 404, "id", False),
    (["group", "delete", "ghosts"], "delete", "/groups/999999", None, 404, "id", False),
    (["group", "add-member", "staff", "alice"], "post", "/groups/{group}/members",
     {"user": "alice"}, 409, "user", True),
    (["group", "add-member", "staff", "carol"], "post", "/groups/{group}/members",
     {"user": "carol"}, 404, "user", True),
    (["group", "remove-member", "staff", "bob"], "delete", "/groups/{group}/members",
     {"user": "bob"}, 404, "user", True),
]


def test_the_clis_role_and_group_refusals_are_the_apis(
        cli: CliRunner, client: FlaskClient, auth: dict[str, str], app: Flask,
        user: str) -> None:
    make_user(app, "bob")
    sample = app.extensions["authserver.settings"].api_audience
    role = client.post("/admin/v1/roles", headers=auth, json={"audience": sample,
                                                              "name": "clerk"}).json["id"]
    group = client.post("/admin/v1/groups", headers=auth, json={"name": "staff"}).json["id"]
    client.post(f"/admin/v1/roles/{role}/grants", headers=auth, json={"user": "alice"})
    client.post(f"/admin/v1/groups/{group}/members", headers=auth, json={"user": "alice"})

    def everything() -> Any:
        return (run(cli, "role", "list", "--json"), run(cli, "group", "list", "--json"),
                client.get(f"/admin/v1/roles/{role}", headers=auth).json)

    before = everything()
    names = {"{sample}": sample, "{role}": role, "{group}": group}

    def fill(text: str) -> str:
        for key, value in names.items():
            text = text.replace(key, value)
        return text

    for args, method, path, body, status, field, same_words in ROLE_REFUSED:
        output = refused(cli, *(fill(arg) for arg in args))
        filled = {k: fill(v) for k, v in body.items()} if body is not None else None
        answer = getattr(client, method)(f"/admin/v1{fill(path)}", headers=auth, json=filled)
        detail = problem(answer, status, field)["detail"]
        assert not same_words or f"Error: {detail}" in output, (args, detail, output)
    assert everything() == before
