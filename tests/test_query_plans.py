"""Every statement of a sign-in, its code exchange and a refresh finds its rows through an index
in the tables that grow with use (codes, sessions, tokens, users...): a full scan there costs
nothing in a test and a second per request in a big deployment. The statements are those the
requests really ran, each asked for its plan: SQLite's EXPLAIN QUERY PLAN, and PostgreSQL's
EXPLAIN with sequential scans priced out (its planner scans a small table whatever its indexes;
with `enable_seqscan` off it still does when no index fits)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from .helpers import pkce
from .test_code_flow import exchange, get_code

# Set by operators, a few rows each: scanning them is what their caches are for.
OPERATOR_TABLES = {"clients", "clients_version", "apis", "idps", "roles", "groups", "role_groups"}


def _statements_of(app: Flask, action: Any) -> list[tuple[str, Any]]:
    engine = app.extensions["authserver.db"].engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "UPDATE", "DELETE", "INSERT"}:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _full_scans(app: Flask, statements: list[tuple[str, Any]]) -> list[str]:
    """The statements that read a growing table whole, with the plan line that says so."""
    engine = app.extensions["authserver.db"].engine
    found = []
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        sqlite = engine.dialect.name == "sqlite"
        if not sqlite:
            cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement,
                           parameters)
            for row in cursor.fetchall():
                line = str(row[3] if sqlite else row[0])
                words = line.split()
                if sqlite and words[:1] == ["SCAN"] and words[1] not in OPERATOR_TABLES | {"CONSTANT"}:
                    found.append(f"{line}: {' '.join(statement.split())[:120]}")
                if not sqlite and "Seq Scan on" in line \
                        and line.split("Seq Scan on ")[1].split()[0] not in OPERATOR_TABLES:
                    found.append(f"{line.strip()}: {' '.join(statement.split())[:120]}")
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
