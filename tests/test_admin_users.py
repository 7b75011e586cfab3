"""The administration API's users (/admin/v1/users), over HTTP on both databases: scopes, every
route, a password change and sessions ended as the CLI ends them, bad input as problem
documents with nothing written, pages walked once under inserts, audit lines naming the
calling client."""

# ruff: noqa: F811  (the fixtures imported from admin_support are parameters here)
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .account_helpers import sign_in
from .admin_support import admin_client, admin_token, audited, auth, problem  # noqa: F401
from .helpers import PASSWORD, make_client, make_user, password_grant, refresh

NEW = {"username": "grace", "password": "a long password", "email": "grace@example.com",
       "name": "Grace Hopper"}


def test_read_scope_reads_write_scope_writes(app: Flask, client: FlaskClient,
                                             auth: dict[str, str]) -> None:
    assert client.post("/admin/v1/users", headers=auth, json=NEW).status_code == 201
    assert client.get("/admin/v1/users").status_code == 401
    reader = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:read'))}"}
    writer = {"Authorization": f"Bearer {admin_token(client, admin_client(app, scope='admin:write'))}"}
    for path in ("/admin/v1/users", "/admin/v1/users/grace", "/admin/v1/users/grace/sessions"):
        assert client.get(path, headers=reader).status_code == 200
        assert client.get(path, headers=writer).status_code == 403
    for method, path, body in [
            ("post", "/admin/v1/users", {**NEW, "username": "x"}),
            ("patch", "/admin/v1/users/grace", {"name": "G"}),
            ("put", "/admin/v1/users/grace/password", {"password": "another long one"}),
            ("delete", "/admin/v1/users/grace/sessions", None),
            ("delete", "/admin/v1/users/grace", None)]:
        answer = getattr(client, method)(path, headers=reader, json=body)
        assert answer.status_code == 403, (method, path)
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    assert client.get("/admin/v1/users/grace", headers=reader).json["name"] == "Grace Hopper"


def test_create_show_update_password_delete(app: Flask, client: FlaskClient,
                                            auth: dict[str, str],
                                            audited: list[tuple[str, dict[str, Any]]]) -> None:
    created = client.post("/admin/v1/users", headers=auth, json={
        **NEW, "email_verified": True, "claims": {"given_name": "Grace", "address": {
            "locality": "Arlington"}, "phone_number_verified": False}})
    assert created.status_code == 201, created.json
    assert created.json["username"] == "grace" and created.json["email_verified"] is True
    assert created.json["claims"]["address"] == {"locality": "Arlington"}
    assert "password" not in created.get_data(as_text=True)
    shown = client.get("/admin/v1/users/grace", headers=auth).json
    assert shown["sub"] == created.json["sub"]
    assert shown["groups"] == [] and shown["roles"] == {} and shown["identities"] == []
    creds = make_client(app, grant_types=["password", "refresh_token"], scope="openid")
    first = password_grant(client, creds, username="grace", password="a long password")
    assert first.status_code == 200

    changed = client.patch("/admin/v1/users/grace", headers=auth, json={
        "email": "grace@navy.example", "claims": {"given_name": None, "locale": "en-US"}})
    assert changed.status_code == 200, changed.json
    assert changed.json["email"] == "grace@navy.example"
    assert changed.json["email_verified"] is False  # a new address is not verified yet
    assert "given_name" not in changed.json["claims"]
    assert changed.json["claims"]["locale"] == "en-US"

    answer = client.put("/admin/v1/users/grace/password", headers=auth,
                        json={"password": "a new long password"})
    assert answer.status_code == 200, answer.json
    assert answer.json == {"username": "grace", "grants_revoked": 1}
    assert refresh(client, creds, first.json["refresh_token"]).status_code == 400
    assert password_grant(client, creds, username="grace",
                          password="a long password").status_code == 400
    assert password_grant(client, creds, username="grace",
                          password="a new long password").status_code == 200

    assert client.delete("/admin/v1/users/grace", headers=auth).status_code == 204
    problem(client.get("/admin/v1/users/grace", headers=auth), 404, "username")

    names = [(name, f) for name, f in audited if name.startswith("admin.user")]
    assert [name for name, _ in names] == ["admin.user_created", "admin.user_updated",
                                           "admin.user_password_set", "admin.user_deleted"]
    caller = names[0][1]["actor"]
    assert caller.startswith("client:")
    assert all(f["actor"] == caller and f["via"] == "api" and f["username"] == "grace"
               for _, f in names)
    assert names[0][1]["sub"] == created.json["sub"]
    assert names[1][1]["claims"] == ["email", "given_name", "locale"]
    assert names[2][1]["grants_revoked"] == 1


def test_sessions_are_listed_and_ended(app: Flask, client: FlaskClient,
                                       auth: dict[str, str],
                                       audited: list[tuple[str, dict[str, Any]]]) -> None:
    client.post("/admin/v1/users", headers=auth, json=NEW)
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert sign_in(browser, "grace", "a long password").status_code == 303
        assert browser.get("/account").status_code == 200
    listed = client.get("/admin/v1/users/grace/sessions", headers=auth).json
    assert listed["next_cursor"] is None and len(listed["items"]) == 2
    sid = listed["items"][0]["sid"]
    assert set(listed["items"][0]) == {"sid", "started_at", "expires_at", "clients"}

    one = client.delete(f"/admin/v1/users/grace/sessions/{sid}", headers=auth)
    assert one.status_code == 200 and one.json == {"ended": 1}
    problem(client.delete(f"/admin/v1/users/grace/sessions/{sid}", headers=auth), 404, "sid")
    assert len(client.get("/admin/v1/users/grace/sessions", headers=auth).json["items"]) == 1
    every = client.delete("/admin/v1/users/grace/sessions", headers=auth)
    assert every.status_code == 200 and every.json == {"ended": 1}
    for browser in (laptop, phone):
        assert browser.get("/account").status_code in (302, 303)  # signed out: to the login page
    assert client.get("/admin/v1/users/grace/sessions", headers=auth).json["items"] == []
    ended = [f for name, f in audited if name == "admin.user_sessions_ended"]
    assert [(f["sid"], f["ended"]) for f in ended] == [(sid, 1), (None, 1)]
    assert all(f["actor"].startswith("client:") for f in ended)


@pytest.mark.parametrize(("body", "field"), [
    ({**NEW, "username": 42}, "username"),
    ({**NEW, "username": "no spaces"}, "username"),
    ({**NEW, "username": "x" * 151}, "username"),
    ({**NEW, "password": "short"}, "password"),
    ({**NEW, "password": ["a long password"]}, "password"),
    ({**NEW, "password": "a long\u0000password"}, "password"),
    ({**NEW, "email": "not-an-address"}, "email"),
    ({**NEW, "email": 7}, "email"),
    ({**NEW, "name": "two\nlines"}, "name"),
    ({**NEW, "name": ""}, "name"),
    ({**NEW, "email": ""}, "email"),
    ({**NEW, "email_verified": "yes"}, "email_verified"),
    ({**NEW, "email": None, "email_verified": True}, "email_verified"),
    ({**NEW, "email": None, "claims": {"email_verified": True}}, "email_verified"),
    ({"username": "eve", "password": "a long password", "claims": {"email_verified": True}},
     "email_verified"),
    ({**NEW, "claims": ["given_name"]}, "claims"),
    ({**NEW, "claims": {"birthdate": "yesterday"}}, "claims"),
    ({**NEW, "claims": {"shoe_size": "44"}}, "claims"),
    ({**NEW, "claims": {"address": "London"}}, "claims"),
    ({**NEW, "claims": {"given_name": 1}}, "claims"),
    ({**NEW, "claims": {"email": "g@example.com"}}, "email"),
    ({**NEW, "colour": "blue"}, "colour"),
    ({"password": "a long password"}, "username"),
    ({"username": "grace"}, "password"),
])
def test_bad_users_name_the_field_and_write_nothing(
        client: FlaskClient, auth: dict[str, str], body: dict[str, Any], field: str) -> None:
    before = client.get("/admin/v1/users", headers=auth).json["items"]
    problem(client.post("/admin/v1/users", headers=auth, json=body), 400, field)
    assert client.get("/admin/v1/users", headers=auth).json["items"] == before


def test_a_duplicate_is_409_and_a_refused_change_writes_nothing(
        client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.post("/admin/v1/users", headers=auth, json=NEW).status_code == 201
    problem(client.post("/admin/v1/users", headers=auth, json={**NEW, "name": "other"}), 409,
            "username")
    before = client.get("/admin/v1/users/grace", headers=auth).json
    # A good name with a bad birthdate: refused as a whole.
    refused = client.patch("/admin/v1/users/grace", headers=auth, json={
        "name": "Rear Admiral Hopper", "claims": {"birthdate": "1906-13-09"}})
    assert "birthdate" in problem(refused, 400, "claims")["detail"]
    problem(client.patch("/admin/v1/users/grace", headers=auth, json={"sub": "x"}), 400, "sub")
    # A verified email needs an email: not removed beside it, nor set on a user without one.
    problem(client.patch("/admin/v1/users/grace", headers=auth, json={
        "email": None, "email_verified": True}), 400, "email_verified")
    problem(client.patch("/admin/v1/users/grace", headers=auth, json={
        "email": None, "claims": {"email_verified": True}}), 400, "email_verified")
    problem(client.put("/admin/v1/users/grace/password", headers=auth, json={"password": "short"}),
            400, "password")
    problem(client.put("/admin/v1/users/grace/password", headers=auth, json={}), 400, "password")
    assert client.get("/admin/v1/users/grace", headers=auth).json == before
    problem(client.post("/admin/v1/users", headers=auth, data="{", content_type="application/json"),
            400)
    problem(client.post("/admin/v1/users", headers=auth, data="username=x",
                        content_type="application/x-www-form-urlencoded"), 415)


def test_unknown_users_and_path_tricks_are_404(client: FlaskClient, auth: dict[str, str]) -> None:
    for name in ("nope", "%00", "..%2f..", "%E2%80%AE", "a/b", "nope%0a"):
        path = f"/admin/v1/users/{name}"
        problem(client.get(path, headers=auth), 404)
        problem(client.patch(path, headers=auth, json={"name": "x"}), 404)
        problem(client.delete(path, headers=auth), 404)
        problem(client.put(f"{path}/password", headers=auth,
                           json={"password": "a long password"}), 404)
        problem(client.get(f"{path}/sessions", headers=auth), 404)
        problem(client.delete(f"{path}/sessions", headers=auth), 404)
        problem(client.delete(f"{path}/sessions/%00", headers=auth), 404)


def test_a_walk_sees_every_user_once_while_others_are_added(
        client: FlaskClient, auth: dict[str, str]) -> None:
    for n in range(7):
        client.post("/admin/v1/users", headers=auth, json={**NEW, "username": f"u{n}"})
    existing = {u["username"] for u in client.get("/admin/v1/users?limit=200",
                                                  headers=auth).json["items"]}
    seen: list[str] = []
    cursor, n = None, 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/admin/v1/users?{query}", headers=auth).json
        assert len(page["items"]) <= 3
        seen += [u["username"] for u in page["items"]]
        # Another automation adds a user between our pages.
        n += 1
        made = client.post("/admin/v1/users", headers=auth,
                           json={**NEW, "username": f"meanwhile{n}"})
        assert made.status_code == 201
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert existing <= set(seen) and len(existing) == 7


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=garbage"])
def test_bad_page_queries_are_400(client: FlaskClient, auth: dict[str, str], query: str) -> None:
    problem(client.get(f"/admin/v1/users?{query}", headers=auth), 400, query.split("=")[0])


def test_a_users_own_password_still_works_after_an_unrelated_change(
        app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    make_user(app, "ada")
    assert client.patch("/admin/v1/users/ada", headers=auth,
                        json={"name": "Ada"}).status_code == 200
    creds = make_client(app, grant_types=["password"], scope="openid")
    assert password_grant(client, creds, username="ada", password=PASSWORD).status_code == 200


def test_a_walk_sees_every_user_once_while_another_thread_adds_users(
        app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    """Inserts really concurrent with the walk: another thread, its own sessions, committing."""
    import threading
    import time

    from authserver.operations import users as operations

    for n in range(9):
        make_user(app, f"before{n}")
    existing = {u["username"] for u in client.get("/admin/v1/users?limit=200",
                                                  headers=auth).json["items"]}
    stop, added = threading.Event(), []

    def add() -> None:
        database = app.extensions["authserver.db"]
        while not stop.is_set() and len(added) < 40:
            with database.session() as session:
                operations.create_user(session, username=f"during{len(added)}",
                                       password="a long password", now=int(time.time()))
            added.append(1)

    adder = threading.Thread(target=add)
    adder.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(f"/admin/v1/users?{query}", headers=auth)
            assert page.status_code == 200, page.json
            seen += [u["username"] for u in page.json["items"]]
            cursor = page.json["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        adder.join()
    assert added, "no user was added during the walk"
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)
