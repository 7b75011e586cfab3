"""The token endpoint's per-worker client cache: it saves the client query, and a change to a
client (deleted, secret rotated) takes effect on the very next request, on every worker."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from authserver.models import Client
from authserver.store.clients import rotate_client_secret

from .helpers import basic, make_client
from .support import ServerProcess, copy_keys, start_server


def token(client: FlaskClient, client_id: str, secret: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers=basic(client_id, secret))


def statements_and_parameters_during(app: Flask, action: Any) -> list[tuple[str, Any]]:
    """The SQL the app's engine ran (through its pool) while `action` ran, each statement with
    its parameters."""
    seen: list[tuple[str, Any]] = []
    engine = app.extensions["authserver.db"].engine

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def statements_during(app: Flask, action: Any) -> list[str]:
    """The SQL the app's engine ran (through its pool) while `action` ran."""
    return [statement for statement, _ in statements_and_parameters_during(app, action)]


def test_a_known_client_is_not_queried_again(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    assert token(client, *cc_client).status_code == 200
    statements = statements_during(app, lambda: token(client, *cc_client))
    assert not [s for s in statements if "clients" in s], statements


def test_rotated_secret_takes_effect_on_the_next_request(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    client_id, old_secret = cc_client
    assert token(client, client_id, old_secret).status_code == 200  # now cached
    with app.extensions["authserver.db"].session() as session:
        stored = session.scalar(select(Client).where(Client.client_id == client_id))
        assert stored is not None
        new_secret = rotate_client_secret(stored)
    refused = token(client, client_id, old_secret)
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "invalid_client"
    assert token(client, client_id, new_secret).status_code == 200


def test_deleted_client_is_refused_on_the_next_request(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    assert token(client, *cc_client).status_code == 200
    with app.extensions["authserver.db"].session() as session:
        session.delete(session.scalar(select(Client).where(Client.client_id == cc_client[0])))
    assert token(client, *cc_client).status_code == 401


def test_a_full_cache_evicts_the_least_recently_used_client(
    app: Flask, client: FlaskClient, monkeypatch: Any
) -> None:
    """With more clients in use than the cache holds, the one used least recently goes and the
    others stay (clearing the whole cache when full made nearly every request a miss)."""
    from authserver.store import client_cache

    monkeypatch.setattr(client_cache, "MAX_ENTRIES", 2)
    first, second, third = (make_client(app, scope="profile") for _ in range(3))
    cache = app.extensions["authserver.store"].clients.cache

    def queried(credentials: tuple[str, str]) -> bool:
        """Whether a token request for this client loaded it from the database."""
        statements = statements_during(app, lambda: token(client, *credentials))
        return bool([s for s in statements if "clients" in s])

    assert queried(first) and queried(second)  # the cache is full: [first, second]
    assert not queried(first)  # a hit makes `first` the most recent: [second, first]
    assert queried(third)  # evicts `second`, the least recently used: [first, third]
    assert list(cache._entries) == [first[0], third[0]]
    assert not queried(first)
    assert not queried(third)
    assert queried(second)  # it was the one evicted; now `first` goes: [third, second]
    assert list(cache._entries) == [third[0], second[0]]


def test_a_rolled_back_change_keeps_the_version(app: Flask, cc_client: tuple[str, str]) -> None:
    database = app.extensions["authserver.db"]
    read = "SELECT version FROM clients_version WHERE id = 1"
    with database.engine.connect() as conn:
        before = conn.execute(text(read)).scalar_one()
    session = database.session_factory()
    stored = session.scalar(select(Client).where(Client.client_id == cc_client[0]))
    assert stored is not None
    stored.name = "renamed"
    session.flush()  # the bump runs here, in the same transaction...
    session.rollback()  # ...and goes with it
    session.close()
    with database.engine.connect() as conn:
        assert conn.execute(text(read)).scalar_one() == before


def test_a_lost_version_connection_falls_back_to_the_database(
    app: Flask, client: FlaskClient, cc_client: tuple[str, str]
) -> None:
    assert token(client, *cc_client).status_code == 200
    cache = app.extensions["authserver.store"].clients.cache
    cache._local.connection.close()  # as if the database had dropped it
    statements = statements_during(app, lambda: token(client, *cc_client))
    assert [s for s in statements if "clients" in s]  # loaded through the session instead
    assert token(client, *cc_client).status_code == 200  # and the cache reconnects
    assert cache.current_version() is not None


def _cached_on_every_worker(server: ServerProcess, client_id: str, secret: str) -> None:
    # Enough requests that both workers have loaded the client into their caches.
    for _ in range(12):
        response = server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                    headers=basic(client_id, secret))
        assert response.status_code == 200


def _statuses(server: ServerProcess, client_id: str, secret: str) -> list[int]:
    # Four tries: fewer than the failed-authentication throttle allows (5 per account), which
    # would answer 429 instead of 401.
    return [server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                             headers=basic(client_id, secret)).status_code for _ in range(4)]


def test_rotate_secret_on_the_cli_reaches_every_worker(server: ServerProcess) -> None:
    created = server.cli_json("client", "create", "--name", "cache", "--scope", "profile")
    client_id, old_secret = created["client_id"], created["client_secret"]
    _cached_on_every_worker(server, client_id, old_secret)
    new_secret = server.cli_json("client", "rotate-secret", client_id)["client_secret"]
    assert _statuses(server, client_id, old_secret) == [401] * 4
    _cached_on_every_worker(server, client_id, new_secret)


def test_delete_on_the_cli_reaches_every_worker(server: ServerProcess) -> None:
    created = server.cli_json("client", "create", "--name", "cache", "--scope", "profile")
    client_id, secret = created["client_id"], created["client_secret"]
    _cached_on_every_worker(server, client_id, secret)
    server.cli("client", "delete", client_id)
    assert _statuses(server, client_id, secret) == [401] * 4


def test_update_on_the_cli_reaches_every_worker(server: ServerProcess) -> None:
    created = server.cli_json("client", "create", "--name", "cache", "--scope", "profile")
    client_id, secret = created["client_id"], created["client_secret"]
    _cached_on_every_worker(server, client_id, secret)
    server.cli("client", "update", client_id, "--grant-type", "password")
    answers = [server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                headers=basic(client_id, secret)) for _ in range(4)]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (400, "unauthorized_client")] * 4


def test_threaded_workers_follow_a_rotation(tmp_path: Path, key_template: Path) -> None:
    """gthread workers: each thread reads the version on its own connection."""
    server = start_server(tmp_path, database_url=f"sqlite:///{tmp_path / 'threads.db'}",
                          keys_dir=copy_keys(key_template, tmp_path), workers=1, threads=4)
    try:
        created = server.cli_json("client", "create", "--name", "threads", "--scope", "profile")
        client_id, old_secret = created["client_id"], created["client_secret"]
        statuses: list[int] = []

        def hammer(secret: str) -> None:
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                for _ in range(10):
                    statuses.append(http.post(
                        "/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic(client_id, secret)).status_code)

        def burst(secret: str) -> list[int]:
            statuses.clear()
            threads = [threading.Thread(target=hammer, args=(secret,)) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return sorted(set(statuses))

        assert burst(old_secret) == [200]  # every worker has the client cached
        new_secret = server.cli_json("client", "rotate-secret", client_id)["client_secret"]
        assert burst(new_secret) == [200]
        # No thread still accepts the old secret: 401, then 429 once the failed-authentication
        # throttle counts five failures.
        assert 200 not in burst(old_secret)
    finally:
        server.stop()


def test_an_authorization_request_reads_the_clients_version_once(
    app: Flask, client: FlaskClient, public_client: str, monkeypatch: Any
) -> None:
    """The request, its request object and Authlib's checks each look at the client: the
    first look reads the version, the others trust that read (one round trip, not three);
    the next request reads it afresh."""
    from authserver.store.client_cache import ClientCache

    from .test_code_flow import authorize_url

    reads: list[int] = []
    real = ClientCache.current_version

    def counted(cache: ClientCache) -> int | None:
        reads.append(1)
        return real(cache)

    monkeypatch.setattr(ClientCache, "current_version", counted)
    for _ in range(2):
        reads.clear()
        page = client.get(authorize_url(public_client, "x" * 43))
        assert page.status_code == 200, page.get_data(as_text=True)
        assert reads == [1]
