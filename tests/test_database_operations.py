"""Database operations: `authserver db prune` on many rows (while token requests go on), and
the database going away under a running server (503, then recovery by itself)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, insert, select

from authserver.cli import main
from authserver.models import (
    AuthorizationCode,
    InitialAccessToken,
    LoginSession,
    RefreshToken,
    RefreshTokenFamily,
    User,
)
from authserver.store.housekeeping import prune
from authserver.store.registration import create_initial_access_token

from .conftest import POSTGRES_URL
from .helpers import basic, make_client, make_user, password_grant
from .support import copy_keys, eventually, start_server
from .tcp_proxy import TcpProxy

EXPIRED_FAMILIES = 2_000
TOKENS_PER_FAMILY = 5


def _bulk_rows(app: Flask, user_sub: str, client_id: str) -> tuple[list[str], list[str]]:
    """Many expired families and tokens, a few live ones; returns (live, expired) family ids."""
    now = int(time.time())
    database = app.extensions["authserver.db"]
    with database.session() as session:
        user_id = session.scalar(select(User.id).where(User.sub == user_sub))
        families = []
        for n in range(EXPIRED_FAMILIES + 10):
            live = n >= EXPIRED_FAMILIES
            families.append({
                "id": str(uuid.uuid4()), "client_id": client_id, "user_id": user_id,
                "scope": "notes:read", "generation": TOKENS_PER_FAMILY - 1, "auth_time": now,
                "created_at": now, "expires_at": now + 3600 if live else now - 10,
            })
        session.execute(insert(RefreshTokenFamily), families)
        tokens = [
            {"token_hash": uuid.uuid4().hex + uuid.uuid4().hex, "family_id": family["id"],
             "generation": g, "client_id": client_id, "scope": "notes:read", "issued_at": now,
             "expires_at": family["expires_at"]}
            for family in families for g in range(TOKENS_PER_FAMILY)
        ]
        session.execute(insert(RefreshToken), tokens)
        session.execute(insert(AuthorizationCode), [
            {"code_hash": uuid.uuid4().hex, "client_id": client_id, "user_id": user_id,
             "redirect_uri": "", "scope": "openid", "auth_time": now, "created_at": now,
             "expires_at": now - 5}
            for _ in range(500)
        ])
    live = [f["id"] for f in families if f["expires_at"] > now]
    expired = [f["id"] for f in families if f["expires_at"] <= now]
    return live, expired


def test_prune_deletes_only_the_expired_in_batches_while_tokens_are_issued(app: Flask) -> None:
    sub = make_user(app)
    creds = make_client(app, grant_types=["password", "refresh_token"])
    live, _ = _bulk_rows(app, sub, creds[0])
    database = app.extensions["authserver.db"]
    client = app.test_client()
    outcomes: list[int] = []

    def issue_during_prune() -> None:
        for _ in range(5):
            outcomes.append(password_grant(client, creds).status_code)

    issuer = threading.Thread(target=issue_during_prune)
    issuer.start()
    counts = prune(database.session_factory, batch_size=500)
    issuer.join()
    assert outcomes == [200] * 5
    assert counts.refresh_token_families == EXPIRED_FAMILIES
    assert counts.authorization_codes == 500
    with database.session() as session:
        remaining = set(session.scalars(select(RefreshTokenFamily.id)).all())
        assert set(live) <= remaining
        assert len(remaining) == len(live) + 5  # plus the families issued during the prune
        tokens = session.scalar(select(func.count()).select_from(RefreshToken))
        assert tokens == len(live) * TOKENS_PER_FAMILY + 5
        assert session.scalar(select(func.count()).select_from(AuthorizationCode)) == 0


def test_prune_deletes_ended_and_expired_sign_ins_only(app: Flask) -> None:
    make_user(app)
    store = app.extensions["authserver.store"]
    with app.extensions["authserver.db"].session() as session:
        user_id = session.scalar(select(User.id))
    with app.app_context():
        ended, _ = store.login_sessions.start(user_id, 3600)
        store.login_sessions.start(user_id, 3600)  # live: kept
        store.login_sessions.start(user_id, 1)  # expires in a second
        store.login_sessions.end(ended)
    store.close()
    database = app.extensions["authserver.db"]
    assert prune(database.session_factory).login_sessions == 1
    assert prune(database.session_factory, now=int(time.time()) + 5).login_sessions == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_prune_keeps_recently_revoked_families(app: Flask) -> None:
    make_user(app)
    creds = make_client(app, grant_types=["password", "refresh_token"])
    client = app.test_client()
    refresh_token = password_grant(client, creds).json["refresh_token"]
    client.post("/oauth/revoke", data={"token": refresh_token}, headers=basic(*creds))
    database = app.extensions["authserver.db"]
    assert prune(database.session_factory).refresh_token_families == 0
    later = int(time.time()) + 2 * 86_400
    assert prune(database.session_factory, now=later).refresh_token_families == 1


def test_db_prune_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    result = CliRunner().invoke(main, ["db", "prune", "--json"])
    assert result.exit_code == 0, result.output
    assert '"refresh_tokens": 0' in result.stdout


@pytest.fixture
def postgres_proxy(postgres_ready: bool) -> TcpProxy:
    proxy = TcpProxy(5432)
    proxy.start()
    return proxy


def test_database_outage_gives_503_and_the_server_recovers(
    tmp_path: Path, key_template: Path, postgres_proxy: TcpProxy
) -> None:

    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (f"postgresql+psycopg://postgres@127.0.0.1:{postgres_proxy.listen_port}/test"
           f"?options=-csearch_path%3D{schema}&connect_timeout=2")
    keys_dir = copy_keys(key_template, tmp_path)
    server = start_server(tmp_path, database_url=url, keys_dir=keys_dir, workers=2)
    try:
        app = server.cli_json("client", "create", "--name", "db", "--scope", "notes:read")
        auth = (app["client_id"], app["client_secret"])

        def token() -> httpx.Response:
            return server.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                    auth=auth)

        assert token().status_code == 200
        postgres_proxy.cut()
        # Until the broken connections are noticed, a request may still be in flight.
        eventually(token, lambda answer: answer.status_code == 503)
        down = [token() for _ in range(4)]
        assert {r.status_code for r in down} == {503}, [r.text for r in down]
        assert down[0].json()["error"] == "temporarily_unavailable"
        assert down[0].headers["Retry-After"] == "5"
        # Discovery and JWKS need no database and keep working.
        assert server.http.get("/.well-known/jwks.json").status_code == 200
        TcpProxy(5432, postgres_proxy.listen_port).start()
        recovered = [token().status_code for _ in range(6)]
        assert recovered == [200] * 6
        assert "Traceback" not in server.log()
    finally:
        server.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_prune_deletes_expired_initial_access_tokens_only(app: Flask) -> None:
    database = app.extensions["authserver.db"]
    now = int(time.time())
    with database.session() as session:
        create_initial_access_token(session, now=now - 100, ttl=10)  # expired
        create_initial_access_token(session, now=now, ttl=600)
    assert prune(database.session_factory).initial_access_tokens == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(InitialAccessToken)) == 1


def test_prune_deletes_expired_device_authorizations_and_pushed_requests(app: Flask) -> None:
    store = app.extensions["authserver.store"]
    with app.app_context():
        store.devices.create(client_id="c", scope="openid", resources=[], ttl=1, interval=5)
        store.devices.create(client_id="c", scope="openid", resources=[], ttl=600, interval=5)
        store.pushed_requests.push("c", {"scope": "openid"}, 1)
        store.pushed_requests.push("c", {"scope": "openid"}, 600)
        store.commit()
    store.close()
    counts = prune(app.extensions["authserver.db"].session_factory, now=int(time.time()) + 5)
    assert (counts.device_authorizations, counts.pushed_requests) == (1, 1)


def test_a_pooled_connection_is_pinged_only_after_idling_and_a_dead_one_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ping round trip on a connection that was just used; one idle past the window is
    pinged, and one the server closed meanwhile is replaced without failing the caller."""
    from types import SimpleNamespace

    from sqlalchemy import create_engine, text

    from authserver import db

    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.3)
    engine = db.make_engine(SimpleNamespace(  # type: ignore[arg-type]
        database_url=POSTGRES_URL, db_pool_size=1, db_max_overflow=0))
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda connection: pings.append(1) or real_ping(connection))

    def backend_pid() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    try:
        first = backend_pid()
        assert backend_pid() == first and pings == []  # reused at once: trusted, no ping
        time.sleep(0.4)
        assert backend_pid() == first and pings == [1]  # idle: pinged, still alive
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        time.sleep(0.4)
        replaced = backend_pid()  # the dead connection is noticed by its ping, not by a failure
        assert replaced != first and len(pings) == 2
    finally:
        engine.dispose()
