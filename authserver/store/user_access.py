"""What a user has granted, for the operator: their live sign-in sessions and the apps they
consented to, listed and ended (`authserver user sessions|consents`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..db import rows_changed
from ..models import Client, Consent, LoginSession, LoginSessionClient, User
from .refresh_tokens import revoke_client_grants_of_user


@dataclass(frozen=True)
class SessionInfo:
    sid: str
    started_at: int
    expires_at: int
    clients: list[str]


@dataclass(frozen=True)
class ConsentInfo:
    client_id: str
    client_name: str
    scope: str
    since: int


def live_sessions(session: Session, user: User, now: int) -> list[SessionInfo]:
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
               LoginSession.expires_at > now)
        .order_by(LoginSession.auth_time))
    found = []
    for row in rows:
        clients = session.scalars(select(LoginSessionClient.client_id)
                                  .where(LoginSessionClient.session_id_hash == row.id_hash)
                                  .order_by(LoginSessionClient.client_id))
        found.append(SessionInfo(sid=row.sid or "", started_at=row.auth_time,
                                 expires_at=row.expires_at, clients=list(clients)))
    return found


def end_sessions(session: Session, user: User, now: int, sid: str | None = None) -> int:
    """End one live session of the user (by its public sid), or all of them; how many ended.
    A copied cookie stops working at once (the cookie's session is looked up each request)."""
    which = [LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)]
    if sid is not None:
        which.append(LoginSession.sid == sid)
    return rows_changed(session.execute(
        update(LoginSession).where(*which).values(ended_at=now)
        .execution_options(synchronize_session=False)))


def consents(session: Session, user: User) -> list[ConsentInfo]:
    rows = session.execute(
        select(Consent, Client.name)
        .outerjoin(Client, Client.client_id == Consent.client_id)
        .where(Consent.user_id == user.id)
        .order_by(Consent.created_at))
    return [ConsentInfo(client_id=consent.client_id, client_name=name or "(deleted client)",
                        scope=consent.scope, since=consent.created_at)
            for consent, name in rows]


def revoke_consent(session: Session, user: User, client_id: str, now: int) -> tuple[bool, int]:
    """Forget the user's consent to the client and end that client's refresh grants for the
    user (as the account page's "revoke" does): the app must ask again. Returns whether there
    was a consent and how many live grants were revoked."""
    had = rows_changed(session.execute(
        delete(Consent).where(Consent.user_id == user.id, Consent.client_id == client_id)))
    revoked = revoke_client_grants_of_user(session, user.id, client_id, now)
    return had == 1, revoked
