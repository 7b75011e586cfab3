"""What a sign-in records as it goes, under races: two first-time consents at once land in
one row, and the clients a sign-in logged the user in to (whom its logout notifies) are
recorded once, in one statement, and not at all for a sign-in deleted meanwhile."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import delete, select

from authserver.models import Consent, User

from .helpers import make_client


def test_two_first_time_consents_at_once_both_land_in_one_row(app: Flask, user: str) -> None:
    store = app.extensions["authserver.store"]
    with app.extensions["authserver.db"].session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "alice"))
    client_id, _ = make_client(app)
    barrier, errors = threading.Barrier(2), []

    def consent(scope: str) -> None:
        try:
            with app.app_context():
                assert store.consents.find(user_id, client_id) is None
                barrier.wait(timeout=10)  # both have seen "no consent yet"
                store.consents.remember(user_id, client_id, scope)
                store.commit()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=consent, args=(s,)) for s in ("openid", "profile")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.extensions["authserver.db"].session() as session:
        rows = session.scalars(select(Consent).where(Consent.user_id == user_id)).all()
    assert len(rows) == 1 and set(rows[0].scope.split()) == {"openid", "profile"}


def _signed_in_with_a_client(app: Flask) -> tuple[Any, str, str]:
    """alice's new sign-in (the store, its session id) and a client to record on it."""
    store = app.extensions["authserver.store"]
    with app.extensions["authserver.db"].session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "alice"))
    client_id, _ = make_client(app)
    with app.app_context():
        session_id, _ = store.login_sessions.start(user_id, 3600)
        store.close()
    return store, session_id, client_id


def _recorded_clients(store: Any, app: Flask, session_id: str) -> list[str]:
    with app.app_context():
        recorded = store.login_sessions.clients(store.login_sessions.live(session_id))
        store.close()
    return [client.client_id for client in recorded]


def test_two_codes_at_once_record_the_sessions_client_once(app: Flask, user: str) -> None:
    """Two tabs of one sign-in authorize one client at the same instant: both find the
    session's client unrecorded, both record it, neither request fails."""
    store, session_id, client_id = _signed_in_with_a_client(app)
    barrier, errors = threading.Barrier(2), []

    def issue() -> None:
        try:
            with app.app_context():
                login_session = store.login_sessions.live(session_id)
                assert store.login_sessions.clients(login_session) == []
                barrier.wait(timeout=10)  # both have seen "not recorded yet"
                store.login_sessions.add_client(login_session, client_id)
                store.commit()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert _recorded_clients(store, app, session_id) == [client_id]


def test_recording_a_sessions_client_is_one_statement_and_idempotent(app: Flask,
                                                                     user: str) -> None:
    """Each code issued records its client on the sign-in (the back-channel logout's list):
    one INSERT that does nothing when the row is there, not a look-up and a savepoint."""
    from .test_client_cache import statements_during

    store, session_id, client_id = _signed_in_with_a_client(app)
    for _ in range(2):  # the second time the row is there already
        with app.app_context():
            login_session = store.login_sessions.live(session_id)

            def record() -> None:
                store.login_sessions.add_client(login_session, client_id)  # noqa: B023
                store.commit()

            ran = [s.split()[0] for s in statements_during(app, record)]
            assert [s for s in ran if s != "BEGIN"] == ["INSERT"], ran
            store.close()
    assert _recorded_clients(store, app, session_id) == [client_id]


def test_a_sign_in_deleted_meanwhile_records_no_client_and_fails_nothing(app: Flask,
                                                                        user: str) -> None:
    """Housekeeping (or the user's removal) deletes the sign-in between the request's look-up
    and its code: recording the client adds nothing and raises nothing."""
    from authserver.models import LoginSession, LoginSessionClient

    store, session_id, client_id = _signed_in_with_a_client(app)
    with app.app_context():
        login_session = store.login_sessions.live(session_id)
        with app.extensions["authserver.db"].session() as other, other.begin():
            other.execute(delete(LoginSession).where(
                LoginSession.id_hash == login_session.id_hash))
        store.login_sessions.add_client(login_session, client_id)
        store.commit()
        store.close()
    with app.extensions["authserver.db"].session() as session:
        assert session.scalars(select(LoginSessionClient)).all() == []
