"""Roles and groups in tokens (INTERFACE.md "Roles and groups"), over HTTP through Flask's test
client on SQLite and PostgreSQL: `roles` through every grant (password, refresh,
client_credentials, authorization code), held directly and through groups, following each
change from the next token; `groups` only with its scope (access token, ID token, userinfo);
introspection; the sample API's admin route; and one query for a user's roles, however many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from authserver.operations import groups, roles
from authserver.operations.apis import create_api
from authserver.store.apis import ApiRegistry, load_registry, sample_api

from .helpers import REDIRECT, basic, make_client, make_user, password_grant, pkce, refresh, verify
from .test_client_cache import statements_during
from .test_code_flow import authorize_url, consent, location_params, login

ORDERS = "https://orders.example.com"


# The CLI's way of naming things (an API's audience and a role's name, a group's name), over
# the operations the CLI and the administration API call.
def grant_role(session: Session, registry: ApiRegistry, audience: str, name: str,
               **holder: str) -> str:
    return roles.grant(session, roles.role_named(session, registry, audience, name),
                       *roles.one_holder(**holder))


def revoke_role(session: Session, registry: ApiRegistry, audience: str, name: str,
                **holder: str) -> str:
    return roles.revoke(session, roles.role_named(session, registry, audience, name),
                        *roles.one_holder(**holder))


def delete_role(session: Session, registry: ApiRegistry, audience: str, name: str) -> None:
    roles.delete_role(session, roles.role_named(session, registry, audience, name))


def add_member(session: Session, group: str, username: str) -> None:
    groups.add_member(session, groups.group_named(session, group), username)


def remove_member(session: Session, group: str, username: str) -> None:
    groups.remove_member(session, groups.group_named(session, group), username)


class Admin:
    """The role and group operations (operations/roles.py and groups.py, what the CLI and the
    administration API run) on the app's database, each in its own transaction."""

    def __init__(self, app: Flask) -> None:
        self.database = app.extensions["authserver.db"]
        self.sample = app.extensions["authserver.settings"].api_audience

    def __call__(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.database.session() as session:
            if operation in (roles.create_role, delete_role, grant_role, revoke_role):
                args = (load_registry(session, sample_api(self.sample)), *args)
            return operation(session, *args, **kwargs)


@pytest.fixture
def admin(app: Flask) -> Admin:
    operations = Admin(app)
    with operations.database.session() as session:
        create_api(session, load_registry(session, sample_api(operations.sample)),
                   audience=ORDERS, name="Orders", scopes=["orders:read"], access_token_ttl=None)
    operations(roles.create_role, operations.sample, "admin")
    operations(roles.create_role, operations.sample, "viewer")
    operations(roles.create_role, ORDERS, "clerk")
    operations(groups.create_group, "staff")
    operations(grant_role, operations.sample, "viewer", group="staff")
    operations(grant_role, ORDERS, "clerk", group="staff")
    return operations


@pytest.fixture
def orders_client(app: Flask, admin: Admin) -> tuple[str, str]:
    """A password and refresh client that may have the orders API's scope too."""
    with admin.database.session() as session:
        known = load_registry(session, sample_api(admin.sample)).known_scopes
    return make_client(app, grant_types=["password", "refresh_token"], known_scopes=known,
                       scope="notes:read orders:read")


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_user_tokens_carry_roles_held_directly_and_through_groups(
    app: Flask, client: FlaskClient, admin: Admin, user: str, orders_client: tuple[str, str]
) -> None:
    creds = orders_client
    admin(grant_role, admin.sample, "admin", user="alice")
    admin(add_member, "staff", "alice")
    tokens = password_grant(client, creds, scope="notes:read").json
    access = verify(app, tokens["access_token"], admin.sample)
    assert access["roles"] == ["admin", "viewer"]  # sorted; the orders API's clerk is not here
    assert "groups" not in access  # no groups scope
    orders = password_grant(client, creds, scope="orders:read").json
    assert verify(app, orders["access_token"], ORDERS)["roles"] == ["clerk"]  # that API's only


def test_a_refresh_follows_every_change(
    client: FlaskClient, admin: Admin, user: str, password_client: tuple[str, str]
) -> None:
    admin(add_member, "staff", "alice")
    tokens = password_grant(client, password_client, scope="notes:read").json
    assert claims(tokens["access_token"])["roles"] == ["viewer"]
    steps: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], list[str] | None]] = [
        (grant_role, (admin.sample, "admin"), {"user": "alice"}, ["admin", "viewer"]),
        (remove_member, ("staff", "alice"), {}, ["admin"]),
        (revoke_role, (admin.sample, "admin"), {"user": "alice"}, None),
        (add_member, ("staff", "alice"), {}, ["viewer"]),
        (delete_role, (admin.sample, "viewer"), {}, None),
    ]
    for operation, args, kwargs, expected in steps:
        admin(operation, *args, **kwargs)
        tokens = refresh(client, password_client, tokens["refresh_token"]).json
        assert claims(tokens["access_token"]).get("roles") == expected, operation.__name__


def test_client_credentials_tokens_carry_the_clients_own_roles(
    client: FlaskClient, admin: Admin, cc_client: tuple[str, str]
) -> None:
    def roles() -> list[str] | None:
        answer = client.post("/oauth/token", headers=basic(*cc_client),
                             data={"grant_type": "client_credentials", "scope": "notes:read"})
        assert answer.status_code == 200, answer.json
        return claims(answer.json["access_token"]).get("roles")

    assert roles() is None  # absent when none (RFC 9068 §2.2.3.1)
    admin(grant_role, admin.sample, "admin", client=cc_client[0])
    admin(grant_role, ORDERS, "clerk", client=cc_client[0])
    assert roles() == ["admin"]  # this worker had the client cached: it follows at once
    admin(revoke_role, admin.sample, "admin", client=cc_client[0])
    assert roles() is None
    refused = client.post("/oauth/token", headers=basic(*cc_client),
                          data={"grant_type": "client_credentials", "scope": "groups"})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_scope"


def test_groups_only_with_the_groups_scope(
    app: Flask, client: FlaskClient, admin: Admin, user: str, password_client: tuple[str, str]
) -> None:
    admin(groups.create_group, "readers")
    admin(add_member, "staff", "alice")
    admin(add_member, "readers", "alice")
    without = password_grant(client, password_client, scope="openid notes:read").json
    with_groups = password_grant(client, password_client, scope="openid groups notes:read").json
    assert "groups" not in claims(without["access_token"])
    assert "groups" not in verify(app, without["id_token"], password_client[0])
    assert "groups" not in client.get("/oauth/userinfo", headers=bearer(without["access_token"])).json
    assert claims(with_groups["access_token"])["groups"] == ["readers", "staff"]
    assert verify(app, with_groups["id_token"], password_client[0])["groups"] == ["readers", "staff"]
    info = client.get("/oauth/userinfo", headers=bearer(with_groups["access_token"])).json
    assert info["groups"] == ["readers", "staff"] and info["sub"] == user
    introspected = client.post("/oauth/introspect", headers=basic(*password_client),
                               data={"token": with_groups["access_token"]}).json
    assert introspected["active"] is True
    assert introspected["groups"] == ["readers", "staff"] and introspected["roles"] == ["viewer"]
    plain = client.post("/oauth/introspect", headers=basic(*password_client),
                        data={"token": without["access_token"]}).json
    assert "groups" not in plain and plain["roles"] == ["viewer"]
    admin(remove_member, "staff", "alice")
    admin(remove_member, "readers", "alice")
    emptied = refresh(client, password_client, with_groups["refresh_token"]).json
    assert claims(emptied["access_token"])["groups"] == []  # asked for, and none
    assert "roles" not in claims(emptied["access_token"])


def test_the_code_flow_carries_roles_and_groups(
    app: Flask, client: FlaskClient, admin: Admin, user: str
) -> None:
    client_id, secret = make_client(app, grant_types=["authorization_code"],
                                    redirect_uris=[REDIRECT])
    admin(add_member, "staff", "alice")
    verifier, challenge = pkce()
    url = authorize_url(client_id, challenge, scope="openid groups notes:read")
    page = login(client, url)
    assert "See the groups you belong to" in page.get_data(as_text=True)  # the consent page
    code = location_params(consent(client, url, page))["code"]
    tokens = client.post("/oauth/token", headers=basic(client_id, secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}).json
    access = verify(app, tokens["access_token"], admin.sample)
    assert access["roles"] == ["viewer"] and access["groups"] == ["staff"]
    assert verify(app, tokens["id_token"], client_id)["groups"] == ["staff"]


def test_the_admin_notes_route_needs_the_admin_role(
    app: Flask, client: FlaskClient, admin: Admin, user: str, password_client: tuple[str, str]
) -> None:
    make_user(app, "bob")
    bobs = password_grant(client, password_client, username="bob",
                          scope="notes:read notes:write").json["access_token"]
    assert client.post("/api/notes", json={"text": "bob's note"}, headers=bearer(bobs)).status_code == 201
    alices = password_grant(client, password_client, scope="notes:read").json["access_token"]
    refused = client.get("/api/admin/notes", headers=bearer(alices))
    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert "role 'admin'" in challenge and "role 'admin'" in refused.json["error_description"]
    admin(grant_role, admin.sample, "admin", user="alice")
    alices = password_grant(client, password_client, scope="notes:read").json["access_token"]
    answer = client.get("/api/admin/notes", headers=bearer(alices))
    assert answer.status_code == 200
    assert [n["text"] for n in answer.json["notes"]] == ["bob's note"]
    no_scope = password_grant(client, password_client, scope="profile").json["access_token"]
    assert 'scope="notes:read"' in client.get(
        "/api/admin/notes", headers=bearer(no_scope)).headers["WWW-Authenticate"]
    assert "/api/admin/notes" in client.get("/openapi.json").json["paths"]


def _role_statements(app: Flask, action: Callable[[], Any]) -> list[str]:
    return [s for s in statements_during(app, action) if "roles" in s or "group_members" in s]


def test_one_query_for_a_users_roles_however_many(
    app: Flask, client: FlaskClient, admin: Admin, user: str, password_client: tuple[str, str]
) -> None:
    make_user(app, "bob")
    for group in range(10):  # bob: 50 roles through 10 groups, 5 each
        admin(groups.create_group, f"team{group}")
        admin(add_member, f"team{group}", "bob")
        for index in range(5):
            admin(roles.create_role, admin.sample, f"r{group}.{index}")
            admin(grant_role, admin.sample, f"r{group}.{index}", group=f"team{group}")
    scope = "openid groups notes:read"
    alices = password_grant(client, password_client, scope=scope).json["refresh_token"]
    bobs = password_grant(client, password_client, username="bob", scope=scope).json["refresh_token"]
    holder: dict[str, Any] = {}

    def refreshed(token: str) -> Callable[[], None]:
        def run() -> None:
            holder["tokens"] = refresh(client, password_client, token).json
        return run

    none = statements_during(app, refreshed(alices))
    assert "roles" not in claims(holder["tokens"]["access_token"])
    fifty = statements_during(app, refreshed(bobs))
    assert len(claims(holder["tokens"]["access_token"])["roles"]) == 50
    assert len(claims(holder["tokens"]["access_token"])["groups"]) == 10
    assert len(fifty) == len(none)
    assert len(_role_statements(app, refreshed(holder["tokens"]["refresh_token"]))) == 1


def test_no_roles_query_for_an_api_without_roles_or_a_cached_client(
    app: Flask, client: FlaskClient, admin: Admin, user: str, orders_client: tuple[str, str],
    cc_client: tuple[str, str]
) -> None:
    admin(delete_role, ORDERS, "clerk")
    tokens = password_grant(client, orders_client, scope="orders:read").json
    assert _role_statements(app, lambda: refresh(client, orders_client,
                                                 tokens["refresh_token"])) == []
    admin(grant_role, admin.sample, "admin", client=cc_client[0])

    def machine() -> None:
        client.post("/oauth/token", headers=basic(*cc_client),
                    data={"grant_type": "client_credentials", "scope": "notes:read"})

    machine()
    assert _role_statements(app, machine) == []
