"""Every statement of a sign-in, its code exchange, a refresh and the other protocol requests
finds its rows through an index in the tables that grow with use (codes, sessions, tokens,
users...): a full scan there costs nothing in a test and a second per request in a big
deployment. The statements are those the requests really ran, each asked for its plan:
SQLite's EXPLAIN QUERY PLAN, and PostgreSQL's EXPLAIN with sequential scans priced out (its
planner scans a small table whatever its indexes; with `enable_seqscan` off it still does when
no index fits)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .helpers import REDIRECT, basic, make_client, password_grant, pkce
from .test_client_cache import statements_and_parameters_during
from .test_code_flow import exchange, get_code

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Set by operators, a few rows each: scanning them is what their caches are for.
OPERATOR_TABLES = {"clients", "clients_version", "apis", "idps", "roles", "groups", "role_groups"}


def _statements_of(app: Flask, action: Any) -> list[tuple[str, Any]]:
    """The reads and writes `action` ran (not BEGIN, COMMIT...), with their parameters."""
    return [(statement, parameters)
            for statement, parameters in statements_and_parameters_during(app, action)
            if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "UPDATE", "DELETE",
                                                                 "INSERT"}]


def _sqlite_full_reads(plan: list[Any]) -> list[str]:
    """SCAN (the whole table, or all of an index) or an AUTOMATIC index (built by reading the
    whole table, each time) of a growing table."""
    found = []
    for row in plan:
        words = str(row[3]).split()
        if (words[:1] == ["SCAN"] or "AUTOMATIC" in words) and words[1] not in OPERATOR_TABLES \
                and words[1] != "CONSTANT":
            found.append(str(row[3]))
    return found


def _postgresql_full_reads(node: dict[str, Any]) -> list[str]:
    """A sequential scan, or an index scan with no condition on the index (all of it), of a
    growing table, anywhere in the plan tree."""
    found = []
    table = node.get("Relation Name")
    kind = node.get("Node Type", "")
    if table is not None and table not in OPERATOR_TABLES and (
            kind == "Seq Scan" or ("Index" in kind and "Index Cond" not in node)):
        found.append(f"{kind} on {table}")
    for child in node.get("Plans", []):
        found.extend(_postgresql_full_reads(child))
    return found


def _full_scans(app: Flask, statements: list[tuple[str, Any]]) -> list[str]:
    """The statements that read a growing table whole, with what their plan says of it."""
    engine = app.extensions["authserver.db"].engine
    found = []
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        sqlite = engine.dialect.name == "sqlite"
        if not sqlite:
            cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (FORMAT JSON) ")
                           + statement, parameters)
            plan = cursor.fetchall()
            reads = (_sqlite_full_reads(plan) if sqlite
                     else _postgresql_full_reads(plan[0][0][0]["Plan"]))
            found.extend(f"{read}: {' '.join(statement.split())[:120]}" for read in reads)
        connection.rollback()
    return found


def test_a_sign_in_its_code_and_a_refresh_read_through_indexes(
    app: Flask, client: FlaskClient, public_client: str, user: str
) -> None:
    verifier, challenge = pkce()
    answers: dict[str, Any] = {}

    def sign_in_and_refresh() -> None:
        params = get_code(client, public_client, challenge, nonce="n-plans")
        answers["tokens"] = exchange(client, public_client, params["code"], verifier)
        answers["refreshed"] = client.post("/oauth/token", data={
            "grant_type": "refresh_token", "client_id": public_client,
            "refresh_token": answers["tokens"].json["refresh_token"]})

    statements = _statements_of(app, sign_in_and_refresh)
    assert answers["tokens"].status_code == 200, answers["tokens"].json
    assert answers["refreshed"].status_code == 200, answers["refreshed"].json
    assert len(statements) > 15  # the whole sign-in was seen
    assert _full_scans(app, statements) == []


def test_the_other_protocol_requests_read_through_indexes(
    app: Flask, client: FlaskClient, password_client: tuple[str, str], user: str
) -> None:
    """The password grant, introspection and revocation, userinfo, a pushed request and its
    use, a device authorization and its poll, and RP-initiated logout."""
    par_client, par_secret = make_client(app, grant_types=["authorization_code"],
                                         redirect_uris=[REDIRECT], scope="openid")
    device_client, _ = make_client(app, grant_types=[DEVICE_GRANT], auth_method="none",
                                   scope="openid")
    answers: dict[str, Any] = {}

    def requests() -> None:
        tokens = password_grant(client, password_client, scope="openid notes:read").json
        auth = basic(*password_client)
        answers["userinfo"] = client.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        for token in (tokens["access_token"], tokens["refresh_token"]):
            answers["introspect"] = client.post("/oauth/introspect", data={"token": token},
                                                headers=auth)
        answers["revoke"] = client.post("/oauth/revoke", headers=auth,
                                        data={"token": tokens["refresh_token"]})
        _, challenge = pkce()
        pushed = client.post("/oauth/par", headers=basic(par_client, par_secret), data={
            "response_type": "code", "client_id": par_client, "scope": "openid",
            "redirect_uri": REDIRECT, "code_challenge": challenge,
            "code_challenge_method": "S256"})
        answers["par"] = client.get("/oauth/authorize", query_string={
            "client_id": par_client, "request_uri": pushed.json["request_uri"]})
        started = client.post("/oauth/device_authorization",
                              data={"client_id": device_client, "scope": "openid"})
        answers["device"] = client.post("/oauth/token", data={
            "grant_type": DEVICE_GRANT, "client_id": device_client,
            "device_code": started.json["device_code"]})
        answers["logout"] = client.get("/oauth/logout",
                                       query_string={"id_token_hint": tokens["id_token"]})

    statements = _statements_of(app, requests)
    assert answers["userinfo"].status_code == 200
    assert answers["introspect"].json["active"] is True
    assert answers["revoke"].status_code == 200
    assert answers["par"].status_code == 200  # the login page of the pushed request
    assert answers["device"].json["error"] == "authorization_pending"
    assert answers["logout"].status_code in (200, 302)
    assert _full_scans(app, statements) == []
