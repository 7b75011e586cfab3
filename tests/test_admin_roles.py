"""The administration API's roles and groups (/admin/v1/roles, /admin/v1/groups), over HTTP on
both databases: every route, read vs write scope, grants and members that reach the next
token's `roles`, pages walked once under inserts, refusals as problem documents naming the
field with nothing written, audit lines naming the calling client."""

# ruff: noqa: F811  (the fixtures imported from admin_access_support are parameters here)
from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .admin_access_support import Audited, audited, auth, reader, walk  # noqa: F401
from .admin_support import ISSUER, admin_client, admin_token, problem
from .dpop_client import DPoPKey
from .helpers import basic, password_grant, verify


@pytest.fixture
def sample(app: Flask) -> str:
    return str(app.extensions["authserver.settings"].api_audience)


def _role(client: FlaskClient, auth: dict[str, str], audience: str, name: str) -> str:
    made = client.post("/admin/v1/roles", headers=auth, json={"audience": audience,
                                                               "name": name})
    assert made.status_code == 201, made.json
    return str(made.json["id"])


def _group(client: FlaskClient, auth: dict[str, str], name: str) -> str:
    made = client.post("/admin/v1/groups", headers=auth, json={"name": name})
    assert made.status_code == 201, made.json
    return str(made.json["id"])


def test_a_role_granted_through_the_api_is_in_the_next_token(
        app: Flask, client: FlaskClient, auth: dict[str, str], sample: str, user: str,
        password_client: tuple[str, str], cc_client: tuple[str, str]) -> None:
    admin_role, viewer = _role(client, auth, sample, "admin"), _role(client, auth, sample,
                                                                      "viewer")
    staff = _group(client, auth, "staff")

    def roles() -> list[str] | None:
        token = password_grant(client, password_client, scope="notes:read").json
        return verify(app, token["access_token"], sample).get("roles")

    assert roles() is None
    assert client.post(f"/admin/v1/roles/{admin_role}/grants", headers=auth,
                       json={"user": "alice"}).status_code == 201
    assert roles() == ["admin"]
    granted = client.post(f"/admin/v1/roles/{viewer}/grants", headers=auth,
                          json={"group": "staff"})
    assert granted.json["grants"] == {"users": [], "groups": ["staff"], "clients": []}
    assert roles() == ["admin"]  # alice is not in staff yet
    member = client.post(f"/admin/v1/groups/{staff}/members", headers=auth, json={"user": "alice"})
    assert member.status_code == 201
    assert member.json["members"] == ["alice"] and member.json["roles"] == {sample: ["viewer"]}
    assert roles() == ["admin", "viewer"]
    assert client.delete(f"/admin/v1/roles/{admin_role}/grants", headers=auth,
                         json={"user": "alice"}).status_code == 204
    assert roles() == ["viewer"]
    assert client.delete(f"/admin/v1/groups/{staff}/members", headers=auth,
                         json={"user": "alice"}).status_code == 204
    assert roles() is None

    # A client's roles ride in its client_credentials tokens.
    assert client.post(f"/admin/v1/roles/{admin_role}/grants", headers=auth,
                       json={"client": cc_client[0]}).status_code == 201
    token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                              "scope": "notes:read"}, headers=basic(*cc_client))
    assert verify(app, token.json["access_token"], sample)["roles"] == ["admin"]
    shown = client.get(f"/admin/v1/roles/{admin_role}", headers=auth).json
    assert shown["grants"]["clients"] == [cc_client[0]] and shown["name"] == "admin"


def test_every_role_route_and_its_audit_line(
        client: FlaskClient, auth: dict[str, str], sample: str, user: str,
        audited: Audited) -> None:
    made = client.post("/admin/v1/roles", headers=auth, json={
        "audience": sample, "name": "auditor", "description": "Reads everything"})
    role = made.json
    assert made.status_code == 201 and role["id"].isdigit() and role["audience"] == sample
    assert role["description"] == "Reads everything"
    assert client.get(f"/admin/v1/roles/{role['id']}", headers=auth).json == {
        **role, "grants": {"users": [], "groups": [], "clients": []}}
    listed = client.get(f"/admin/v1/roles?audience={sample}", headers=auth).json
    assert listed == {"items": [role], "next_cursor": None}
    assert client.get("/admin/v1/roles?audience=https://other.example.com",
                      headers=auth).status_code == 404
    changed = client.patch(f"/admin/v1/roles/{role['id']}", headers=auth,
                           json={"name": "auditor2", "description": "Reads"})
    assert changed.status_code == 200 and changed.json["name"] == "auditor2"
    assert client.post(f"/admin/v1/roles/{role['id']}/grants", headers=auth,
                       json={"user": "alice"}).status_code == 201
    assert client.delete(f"/admin/v1/roles/{role['id']}/grants", headers=auth,
                         json={"user": "alice"}).status_code == 204
    assert client.delete(f"/admin/v1/roles/{role['id']}", headers=auth).status_code == 204
    problem(client.get(f"/admin/v1/roles/{role['id']}", headers=auth), 404, "id")
    assert [name for name, _ in audited] == [
        "admin.role_created", "admin.role_updated", "admin.role_granted", "admin.role_revoked",
        "admin.role_deleted"]
    caller = audited[0][1]["actor"]
    assert caller.startswith("client:") and all(
        f["actor"] == caller and f["via"] == "api" and f["role_id"] == role["id"]
        for _, f in audited)
    assert audited[2][1]["user"] == "alice" and audited[2][1]["audience"] == sample


def test_every_group_route_and_its_audit_line(
        client: FlaskClient, auth: dict[str, str], user: str, audited: Audited) -> None:
    made = client.post("/admin/v1/groups", headers=auth, json={"name": "staff"})
    group = made.json
    assert made.status_code == 201 and group == {
        "id": group["id"], "name": "staff", "members": [], "roles": {},
        "created_at": group["created_at"]}
    assert client.get(f"/admin/v1/groups/{group['id']}", headers=auth).json == group
    assert client.get("/admin/v1/groups", headers=auth).json == {"items": [group],
                                                                 "next_cursor": None}
    renamed = client.patch(f"/admin/v1/groups/{group['id']}", headers=auth,
                           json={"name": "crew"})
    assert renamed.status_code == 200 and renamed.json["name"] == "crew"
    assert client.post(f"/admin/v1/groups/{group['id']}/members", headers=auth,
                       json={"user": "alice"}).json["members"] == ["alice"]
    assert client.delete(f"/admin/v1/groups/{group['id']}/members", headers=auth,
                         json={"user": "alice"}).status_code == 204
    assert client.delete(f"/admin/v1/groups/{group['id']}", headers=auth).status_code == 204
    problem(client.get(f"/admin/v1/groups/{group['id']}", headers=auth), 404, "id")
    assert [name for name, _ in audited] == [
        "admin.group_created", "admin.group_renamed", "admin.group_member_added",
        "admin.group_member_removed", "admin.group_deleted"]
    assert all(f["actor"].startswith("client:") and f["group_id"] == group["id"]
               for _, f in audited)
    assert audited[1][1]["previous_name"] == "staff" and audited[2][1]["username"] == "alice"


def test_read_scope_reads_and_write_scope_writes(
        client: FlaskClient, auth: dict[str, str], reader: dict[str, str], sample: str) -> None:
    role, group = _role(client, auth, sample, "r"), _group(client, auth, "g")
    for path in ("/admin/v1/roles", f"/admin/v1/roles/{role}", "/admin/v1/groups",
                 f"/admin/v1/groups/{group}"):
        assert client.get(path, headers=reader).status_code == 200
        assert client.get(path).status_code == 401
    for method, path, body in [
            ("post", "/admin/v1/roles", {"audience": sample, "name": "x"}),
            ("patch", f"/admin/v1/roles/{role}", {"name": "x"}),
            ("delete", f"/admin/v1/roles/{role}", None),
            ("post", f"/admin/v1/roles/{role}/grants", {"user": "alice"}),
            ("delete", f"/admin/v1/roles/{role}/grants", {"user": "alice"}),
            ("post", "/admin/v1/groups", {"name": "x"}),
            ("patch", f"/admin/v1/groups/{group}", {"name": "x"}),
            ("delete", f"/admin/v1/groups/{group}", None),
            ("post", f"/admin/v1/groups/{group}/members", {"user": "alice"}),
            ("delete", f"/admin/v1/groups/{group}/members", {"user": "alice"})]:
        answer = getattr(client, method)(path, headers=reader, json=body)
        assert answer.status_code == 403, (method, path)
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    assert client.get(f"/admin/v1/roles/{role}", headers=auth).json["name"] == "r"


def _everything(client: FlaskClient, auth: dict[str, str]) -> Any:
    roles = client.get("/admin/v1/roles?limit=200", headers=auth).json["items"]
    return (roles, [client.get(f"/admin/v1/roles/{r['id']}", headers=auth).json for r in roles],
            client.get("/admin/v1/groups?limit=200", headers=auth).json)


def test_refusals_name_the_field_and_write_nothing(
        client: FlaskClient, auth: dict[str, str], sample: str, user: str,
        cc_client: tuple[str, str], audited: Audited) -> None:
    role, group = _role(client, auth, sample, "clerk"), _group(client, auth, "staff")
    client.post(f"/admin/v1/roles/{role}/grants", headers=auth, json={"user": "alice"})
    client.post(f"/admin/v1/groups/{group}/members", headers=auth, json={"user": "alice"})
    before, audited[:] = _everything(client, auth), []
    roles, groups = "/admin/v1/roles", "/admin/v1/groups"
    for method, path, body, status, field in [
            ("post", roles, {"audience": sample, "name": "two words"}, 400, "name"),
            ("post", roles, {"audience": sample, "name": "x" * 65}, 400, "name"),
            ("post", roles, {"audience": sample, "name": "caf\u00e9"}, 400, "name"),
            ("post", roles, {"audience": sample, "name": "clerk"}, 409, "name"),
            ("post", roles, {"audience": "https://nowhere.example.com", "name": "x"}, 404,
             "audience"),
            ("post", roles, {"audience": sample, "name": "x", "description": "a\nb"}, 400,
             "description"),
            ("post", roles, {"audience": sample, "name": 5}, 400, "name"),
            ("post", roles, {"audience": sample}, 400, "name"),
            ("post", roles, {"audience": sample, "name": "x", "colour": "red"}, 400, "colour"),
            ("patch", f"{roles}/{role}", {"name": "a/b"}, 400, "name"),
            ("post", f"{roles}/{role}/grants", {"user": "carol"}, 404, "user"),
            ("post", f"{roles}/{role}/grants", {"group": "ghosts"}, 404, "group"),
            ("post", f"{roles}/{role}/grants", {"client": "c0ffee"}, 404, "client"),
            ("post", f"{roles}/{role}/grants", {"user": "alice"}, 409, "user"),
            ("post", f"{roles}/{role}/grants", {}, 400, "user"),
            ("post", f"{roles}/{role}/grants", {"user": "alice", "group": "staff"}, 400, "user"),
            ("post", f"{roles}/{role}/grants", {"role": "x"}, 400, "role"),
            ("post", f"{roles}/{role}/grants", {"user": ["alice"]}, 400, "user"),
            ("delete", f"{roles}/{role}/grants", {"client": cc_client[0]}, 404, "client"),
            ("post", f"{roles}/999999/grants", {"user": "alice"}, 404, "id"),
            ("post", groups, {"name": "staff"}, 409, "name"),
            ("post", groups, {"name": "a/b"}, 400, "name"),
            ("post", groups, {"name": "x\u0000"}, 400, "name"),
            ("post", groups, {}, 400, "name"),
            ("patch", f"{groups}/{group}", {"name": ""}, 400, "name"),
            ("post", f"{groups}/{group}/members", {"user": "alice"}, 409, "user"),
            ("post", f"{groups}/{group}/members", {"user": "carol"}, 404, "user"),
            ("post", f"{groups}/{group}/members", {"group": "x"}, 400, "group"),
            ("delete", f"{groups}/{group}/members", {"user": "nobody"}, 404, "user"),
            ("delete", f"{groups}/999999/members", {"user": "alice"}, 404, "id")]:
        answer = getattr(client, method)(path, headers=auth, json=body)
        problem(answer, status, field)
    assert _everything(client, auth) == before
    assert audited == []


def test_unknown_ids_and_path_tricks_are_404(client: FlaskClient, auth: dict[str, str]) -> None:
    for collection in ("roles", "groups"):
        for tail in ("0", "99999", "nope", "%00", "..%2f..", "1e3", "%EF%BC%91", "-1",
                     "99999999999999999999", "a/b"):
            path = f"/admin/v1/{collection}/{tail}"
            problem(client.get(path, headers=auth), 404)
            problem(client.delete(path, headers=auth), 404)
            problem(client.patch(path, headers=auth, json={"name": "x"}), 404)
        problem(client.post(f"/admin/v1/{collection}", headers=auth, data="{",
                            content_type="application/json"), 400)
        problem(client.post(f"/admin/v1/{collection}", headers=auth, data="name=x",
                            content_type="application/x-www-form-urlencoded"), 415)


@pytest.mark.parametrize("collection", ["roles", "groups"])
def test_a_walk_sees_every_item_once_while_others_are_added(
        client: FlaskClient, auth: dict[str, str], sample: str, collection: str) -> None:
    counter = iter(range(1000))

    def add() -> None:
        n = next(counter)
        body = {"audience": sample, "name": f"r{n}"} if collection == "roles" else {
            "name": f"g{n}"}
        assert client.post(f"/admin/v1/{collection}", headers=auth, json=body).status_code == 201

    for _ in range(7):
        add()
    for limit in (2, 3):
        existing = [i["id"] for i in client.get(f"/admin/v1/{collection}?limit=200",
                                                headers=auth).json["items"]]
        seen = [i["id"] for i in walk(client, f"/admin/v1/{collection}", auth, add, limit)]
        assert len(seen) == len(set(seen))
        assert seen[:len(existing)] == existing
    problem(client.get(f"/admin/v1/{collection}?limit=0", headers=auth), 400, "limit")
    problem(client.get(f"/admin/v1/{collection}?cursor=x", headers=auth), 400, "cursor")


def test_the_same_group_made_at_once_is_one_201_and_409s(
        app: Flask, auth: dict[str, str], sample: str) -> None:
    """Both requests may pass the duplicate check before either commits (PostgreSQL): the
    database's unique constraint refuses the second, answered 409, never 500."""
    statuses: list[int] = []
    start = threading.Barrier(6)

    def post(path: str, body: dict[str, str]) -> None:
        with app.test_client() as own:
            start.wait()
            statuses.append(own.post(path, headers=auth, json=body).status_code)

    for path, body in (("/admin/v1/groups", {"name": "racers"}),
                       ("/admin/v1/roles", {"audience": sample, "name": "racer"})):
        statuses.clear()
        threads = [threading.Thread(target=post, args=(path, body)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 409, 409, 409, 409, 409], statuses


def test_a_dpop_bound_admin_client_makes_a_group(app: Flask, client: FlaskClient) -> None:
    key = DPoPKey()
    token = admin_token(client, admin_client(app, dpop_bound=True), headers={
        "DPoP": key.proof("POST", f"{ISSUER}/oauth/token")})
    url = f"{ISSUER}/admin/v1/groups"
    made = client.post("/admin/v1/groups", json={"name": "bound"}, headers={
        "Authorization": f"DPoP {token}", "DPoP": key.proof("POST", url, access_token=token)})
    assert made.status_code == 201, made.json
    # The bound token without its proof is refused, and wrote nothing.
    assert client.post("/admin/v1/groups", json={"name": "unbound"},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 401
    listed = client.get("/admin/v1/groups", headers={
        "Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url, access_token=token)})
    assert [g["name"] for g in listed.json["items"]] == ["bound"]
